import type { PurchaseResolvers } from '../generated/resolvers';

export const Purchase: PurchaseResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.purchaseById.load(id),
  member: (purchase) => ({ id: purchase.memberId }),
  total: (purchase) => ({ amount: purchase.total, currency: purchase.currency }),
  channel: (purchase) => purchase.channel as never,
  pendingPoints: (purchase) => (purchase.postedAt ? 0 : purchase.points - purchase.returnedPoints),
};
