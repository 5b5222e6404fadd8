import { rethrowInput } from '@loyalty-graph/shared';
import type { PurchaseImportResolvers } from '../generated/resolvers';

/** An import as its owner sees it: figures computed from its counters, the report paged. */
export const PurchaseImport: PurchaseImportResolvers = {
  progress: (imp, _args, { services }) => services.imports.progress(imp),
  rejections: (imp, page, { services }) => rethrowInput(() => services.imports.rejections(imp.id, page)),
};
