import type { MemberPointsResolvers } from '../generated/resolvers';

export const MemberPoints: MemberPointsResolvers = {
  available: (b) => b.posted - b.held,
  nextExpiries: async (b, _args, { loaders }) => (b.rewardAccountId ? loaders.expiriesByAccountId.load(b.rewardAccountId) : []),
};
