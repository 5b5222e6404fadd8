import { forbidden } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReadPartners } from '../domain/policy';

export const Query: QueryResolvers = {
  async partner(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.partnerById.load(id);
    if (found && !canReadPartners(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  // @access lets SERVICE viewers only (the gateway); nothing else to check.
  apiKeyGrant: (_parent, { key }, { services }) => services.apiClients.grant(key),
};
