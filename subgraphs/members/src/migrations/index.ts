import { InitialSchema1763800000000 } from './1763800000000-initial-schema';

/** In order; listed explicitly so bundling and tests never depend on directory scanning. */
export const migrations = [InitialSchema1763800000000];
