import type { PurchaseReturnResolvers } from '../generated/resolvers';

export const PurchaseReturn: PurchaseReturnResolvers = {
  purchase: async (ret, _args, { loaders }) => (await loaders.purchaseById.load(ret.purchaseId))!,
  entry: (ret, _args, { loaders }) => (ret.entryId ? loaders.entryById.load(ret.entryId) : null),
};
