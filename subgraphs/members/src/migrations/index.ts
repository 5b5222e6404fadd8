import { EventConsumers1764100000001, Outbox1764100000000 } from '@loyalty-graph/shared/events';
import { ScheduledJobs1764000000000 } from '@loyalty-graph/shared/subgraph';
import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { TiersReferralsEvents1764200000000 } from './1764200000000-tiers-referrals-events';

/** In order; listed explicitly so bundling and tests never depend on directory scanning. */
export const migrations = [InitialSchema1763800000000, ScheduledJobs1764000000000, Outbox1764100000000, EventConsumers1764100000001, TiersReferralsEvents1764200000000];
