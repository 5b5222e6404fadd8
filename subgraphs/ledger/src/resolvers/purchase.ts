import { forbidden } from '@loyalty-graph/shared';
import type { PurchaseResolvers } from '../generated/resolvers';
import { canReadMemberRecord } from '../domain/policy';

export const Purchase: PurchaseResolvers = {
  // Another subgraph's reference to a purchase is read like the member's points.
  async __resolveReference({ id }, { viewer, loaders }) {
    const purchase = await loaders.purchaseById.load(id);
    if (purchase && !canReadMemberRecord(viewer, purchase)) throw forbidden();
    return purchase;
  },
  member: (purchase) => ({ id: purchase.memberId }),
  total: (purchase) => ({ amount: purchase.total, currency: purchase.currency }),
  channel: (purchase) => purchase.channel as never,
  pendingPoints: (purchase) => (purchase.postedAt ? 0 : purchase.points - purchase.returnedPoints),
};
