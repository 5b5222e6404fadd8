import type { TierChangeResolvers } from '../generated/resolvers';

export const TierChange: TierChangeResolvers = {
  fromTier: (change, _args, { loaders }) => (change.fromTierId ? loaders.tierById.load(change.fromTierId) : null),
  toTier: (change, _args, { loaders }) => (change.toTierId ? loaders.tierById.load(change.toTierId) : null),
};
