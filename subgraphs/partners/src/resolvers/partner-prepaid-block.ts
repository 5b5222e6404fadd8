import type { PartnerPrepaidBlockResolvers } from '../generated/resolvers';

export const PartnerPrepaidBlock: PartnerPrepaidBlockResolvers = {
  // Reached only through the addPartnerPrepaidPoints payload, already checked.
  async partner(block, _args, { loaders }) {
    return (await loaders.partnerById.load(block.partnerId))!;
  },
};
