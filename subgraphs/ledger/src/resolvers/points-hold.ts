import type { PointsHoldResolvers } from '../generated/resolvers';

export const PointsHold: PointsHoldResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.holdById.load(id),
  member: (hold) => ({ id: hold.memberId }),
};
