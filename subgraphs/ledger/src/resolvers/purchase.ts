import { formatMoneyAmount } from '@loyalty-graph/shared';
import type { PurchaseResolvers } from '../generated/resolvers';

export const Purchase: PurchaseResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.purchaseById.load(id),
  member: (purchase) => ({ id: purchase.memberId }),
  // numeric(20,4) pads every total to four decimals: shown at the currency's own.
  total: (purchase) => ({ amount: formatMoneyAmount(purchase.total, purchase.currency), currency: purchase.currency }),
  channel: (purchase) => purchase.channel as never,
  pendingPoints: (purchase) => (purchase.postedAt ? 0 : purchase.points - purchase.returnedPoints),
};
