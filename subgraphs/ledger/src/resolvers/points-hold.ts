import { forbidden } from '@loyalty-graph/shared';
import type { PointsHoldResolvers } from '../generated/resolvers';
import { canReadMemberRecord } from '../domain/policy';

export const PointsHold: PointsHoldResolvers = {
  // A reward order (another subgraph) refers to its hold: readable by whoever may read the member's points.
  async __resolveReference({ id }, { viewer, loaders }) {
    const hold = await loaders.holdById.load(id);
    if (hold && !canReadMemberRecord(viewer, hold)) throw forbidden();
    return hold;
  },
  member: (hold) => ({ id: hold.memberId }),
};
