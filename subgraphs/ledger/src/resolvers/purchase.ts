import { forbidden, formatMoneyAmount } from '@loyalty-graph/shared';
import type { PurchaseResolvers } from '../generated/resolvers';
import { canReadPurchase } from '../domain/policy';

export const Purchase: PurchaseResolvers = {
  // Another subgraph's reference to a purchase is read like the member's points (or by its partner).
  async __resolveReference({ id }, { viewer, loaders }) {
    const purchase = await loaders.purchaseById.load(id);
    if (purchase && !canReadPurchase(viewer, purchase)) throw forbidden();
    return purchase;
  },
  member: (purchase) => ({ id: purchase.memberId }),
  // numeric(20,4) pads every total to four decimals: shown at the currency's own.
  total: (purchase) => ({ amount: formatMoneyAmount(purchase.total, purchase.currency), currency: purchase.currency }),
  channel: (purchase) => purchase.channel as never,
  pendingPoints: (purchase) => (purchase.postedAt ? 0 : purchase.points - purchase.returnedPoints),
};
