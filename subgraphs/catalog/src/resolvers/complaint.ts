import type { ComplaintResolvers } from '../generated/resolvers';
import { isOverdue } from '../domain/complaints';

/** Complaints are read only by those canReadComplaint allows; the parent field checked it. */
export const Complaint: ComplaintResolvers = {
  program: (complaint) => ({ id: complaint.programId }),
  member: (complaint) => ({ id: complaint.memberId }),
  async order(complaint, _args, { loaders }) {
    return (await loaders.orderById.load(complaint.orderId))!;
  },
  async line(complaint, _args, { loaders }) {
    if (complaint.lineId === null) return null;
    return (await loaders.linesByOrder.load(complaint.orderId)).find((l) => l.id === complaint.lineId) ?? null;
  },
  replacementOrder: (complaint, _args, { loaders }) => (complaint.replacementOrderId ? loaders.orderById.load(complaint.replacementOrderId) : null),
  overdue: (complaint, _args, { clock }) => isOverdue(complaint, clock.now()),
  history: (complaint, _args, { loaders }) => loaders.changesByComplaint.load(complaint.id),
};
