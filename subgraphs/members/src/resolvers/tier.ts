import { forbidden } from '@loyalty-graph/shared';
import type { TierResolvers } from '../generated/resolvers';
import { canReadProgram } from '../domain/policy';

export const Tier: TierResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const tier = await loaders.tierById.load(id);
    if (tier && !canReadProgram(viewer, tier.programId)) throw forbidden('You can only see your own program');
    return tier;
  },
  program: async (tier, _args, { loaders }) => (await loaders.programById.load(tier.programId))!,
};
