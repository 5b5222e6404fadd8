import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';

/** Runs a write and loads what it made for the payload; business refusals become userErrors. */
async function loaded<K extends string, R, T>(key: K, run: () => Promise<R>, load: (result: R) => Promise<T | null>) {
  const { result, userErrors } = await toPayload('result', run);
  return { [key]: result ? await load(result) : null, userErrors } as { [P in K]: T | null } & { userErrors: typeof userErrors };
}

/** Thin: the services validate and write; payloads are shaped here. */
export const Mutation: MutationResolvers = {
  createReward: (_p, { input }, { viewer, services, loaders }) => loaded('reward', () => services.rewards.create(viewer, input), (r) => loaders.rewardById.load(r.rewardId)),
  updateReward: (_p, { input }, { viewer, services, loaders }) => loaded('reward', () => services.rewards.update(viewer, input), (r) => loaders.rewardById.load(r.rewardId)),
  retireReward: (_p, { input }, { viewer, services, loaders }) => loaded('reward', () => services.rewards.retire(viewer, input.rewardId), (r) => loaders.rewardById.load(r.rewardId)),
  receiveRewardStock: (_p, { input }, { viewer, services, loaders }) =>
    loaded('reward', () => services.rewards.receiveStock(viewer, input), (r) => loaders.rewardById.load(r.rewardId)),
  async importVoucherCodes(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.vouchers.importCodes(viewer, input));
    return { reward: result ? await loaders.rewardById.load(result.rewardId) : null, imported: result?.imported ?? 0, rejected: result?.rejected ?? [], userErrors };
  },
  createCatalog: (_p, { input }, { viewer, services, loaders }) => loaded('catalog', () => services.catalogs.create(viewer, input), (r) => loaders.catalogById.load(r.catalogId)),
  setCatalogRewards: (_p, { input }, { viewer, services, loaders }) =>
    loaded('catalog', () => services.catalogs.setRewards(viewer, input), (r) => loaders.catalogById.load(r.catalogId)),
};
