import { forbidden } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReadCatalog } from '../domain/policy';

export const Query: QueryResolvers = {
  async reward(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.rewardById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  async catalog(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.catalogById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
};
