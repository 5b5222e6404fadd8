import type { TierProgressResolvers } from '../generated/resolvers';

export const TierProgress: TierProgressResolvers = {
  tier: (progress, _args, { loaders }) => (progress.tierId ? loaders.tierById.load(progress.tierId) : null),
  nextTier: (progress, _args, { loaders }) => (progress.nextTierId ? loaders.tierById.load(progress.nextTierId) : null),
  pointsToNextTier: (progress) => progress.pointsToNext,
};
