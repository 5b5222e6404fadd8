import { forbidden } from '@loyalty-graph/shared';
import type { CatalogResolvers } from '../generated/resolvers';
import { canReadCatalog } from '../domain/policy';

export const Catalog: CatalogResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const found = await loaders.catalogById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  program: (catalog) => ({ id: catalog.programId }),
  rewards: async (catalog, _args, { loaders }) => (await loaders.rewardsByCatalog.load(catalog.id)).map(({ catalogId: _, ...reward }) => reward),
};
