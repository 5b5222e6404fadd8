import { toPayload, type UserError } from '@loyalty-graph/shared';
import { rethrowInput } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';
import type { Loaders } from '../loaders';

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
  updateCatalog: (_p, { input }, { viewer, services, loaders }) => loaded('catalog', () => services.catalogs.update(viewer, input), (r) => loaders.catalogById.load(r.catalogId)),
  setCatalogRewards: (_p, { input }, { viewer, services, loaders }) =>
    loaded('catalog', () => services.catalogs.setRewards(viewer, input), (r) => loaders.catalogById.load(r.catalogId)),
  async placeRewardOrder(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.orders.place(viewer, input));
    return orderPayload(result, userErrors, loaders);
  },
  async confirmRewardOrderPayment(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.orders.confirmPayment(viewer, input));
    return orderPayload(result, userErrors, loaders);
  },
  cancelRewardOrder: (_p, { input }, { viewer, services, loaders }) => loaded('order', () => services.orderChanges.cancel(viewer, input), (r) => loaders.orderById.load(r.orderId)),
  returnRewardOrder: (_p, { input }, { viewer, services, loaders }) =>
    loaded('order', () => services.orderChanges.giveBackReturned(viewer, input), (r) => loaders.orderById.load(r.orderId)),
  packRewardOrders: async (_p, { input }, { viewer, services, loaders }) => ordersPayload(await rethrow(() => services.orderChanges.pack(viewer, input.orderIds)), loaders),
  shipRewardOrders: async (_p, { input }, { viewer, services, loaders }) => ordersPayload(await rethrow(() => services.orderChanges.ship(viewer, input.shipments)), loaders),
  configureComplaints: async (_p, { input }, { viewer, services }) => {
    const { result, userErrors } = await toPayload('result', () => services.complaints.configure(viewer, input));
    return { settings: result ? { deadlineDays: result.deadlineDays } : null, userErrors };
  },
  openComplaint: (_p, { input }, { viewer, services, loaders }) => loaded('complaint', () => services.complaints.open(viewer, input), (r) => loaders.complaintById.load(r.complaintId)),
  startComplaint: (_p, { input }, { viewer, services, loaders }) =>
    loaded('complaint', () => services.complaints.start(viewer, input.complaintId), (r) => loaders.complaintById.load(r.complaintId)),
  askMemberAboutComplaint: (_p, { input }, { viewer, services, loaders }) =>
    loaded('complaint', () => services.complaints.askMember(viewer, input), (r) => loaders.complaintById.load(r.complaintId)),
  replyToComplaint: (_p, { input }, { viewer, services, loaders }) =>
    loaded('complaint', () => services.complaints.reply(viewer, input), (r) => loaders.complaintById.load(r.complaintId)),
  resolveComplaint: (_p, { input }, { viewer, services, loaders }) =>
    loaded('complaint', () => services.complaints.resolve(viewer, input), (r) => loaders.complaintById.load(r.complaintId)),
  rejectComplaint: (_p, { input }, { viewer, services, loaders }) =>
    loaded('complaint', () => services.complaints.reject(viewer, input), (r) => loaders.complaintById.load(r.complaintId)),
  deliverRewardOrders: async (_p, { input }, { viewer, services, loaders }) => ordersPayload(await rethrow(() => services.orderChanges.deliver(viewer, input.orderIds)), loaders),
};

/** The order (also when it was placed and then cancelled) with the reason it did not complete. */
async function orderPayload(result: { orderId: string; failure: UserError | null } | null, userErrors: UserError[], loaders: Loaders) {
  if (!result) return { order: null, userErrors };
  return { order: await loaders.orderById.load(result.orderId), userErrors: result.failure ? [result.failure] : userErrors };
}

async function ordersPayload(result: { orderIds: string[]; userErrors: UserError[] }, loaders: Loaders) {
  const orders = await Promise.all(result.orderIds.map((id) => loaders.orderById.load(id)));
  return { orders: orders.filter((o) => o !== null), userErrors: result.userErrors };
}

/** Malformed input (InputError) becomes BAD_USER_INPUT. */
async function rethrow<T>(run: () => Promise<T>): Promise<T> {
  return rethrowInput(run);
}
