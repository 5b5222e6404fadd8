import { rethrowInput, toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';

/** Runs a write and loads what it made for the payload; business refusals become userErrors. */
async function loaded<K extends string, R, T>(key: K, run: () => Promise<R>, load: (result: R) => Promise<T | null>) {
  const { result, userErrors } = await toPayload('result', run);
  return { [key]: result ? await load(result) : null, userErrors } as { [P in K]: T | null } & { userErrors: typeof userErrors };
}

/** Thin: validate and move points in the services, shape payloads here. */
export const Mutation: MutationResolvers = {
  async recordPurchase(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.purchases.record(viewer, input));
    if (!result) return { purchase: null, entry: null, userErrors };
    return {
      purchase: await loaders.purchaseById.load(result.purchaseId),
      entry: result.entryId ? await loaders.entryById.load(result.entryId) : null,
      userErrors: [],
    };
  },
  async recordPurchases(_p, { input }, { viewer, services, loaders }) {
    const reports = await rethrowInput(() => services.purchases.recordMany(viewer, input));
    const purchases = await Promise.all(reports.map((r) => (r.purchaseId ? loaders.purchaseById.load(r.purchaseId) : null)));
    const count = (status: string) => reports.filter((r) => r.status === status).length;
    return {
      lines: reports.map((r, i) => ({ index: r.index, transactionId: r.transactionId, status: r.status, purchase: purchases[i] ?? null, error: r.error })),
      recorded: count('RECORDED'),
      alreadyRecorded: count('ALREADY_RECORDED'),
      rejected: count('REJECTED'),
      userErrors: [],
    };
  },
  createPurchaseImport: (_p, { input }, { viewer, services }) => toPayload('purchaseImport', () => services.imports.create(viewer, input)),
  async addPurchaseImportChunk(_p, { input }, { viewer, services }) {
    const { result, userErrors } = await toPayload('result', () => services.imports.addChunk(viewer, input));
    return { purchaseImport: result?.import ?? null, lineCount: result?.lineCount ?? null, userErrors };
  },
  startPurchaseImport: (_p, { input }, { viewer, services }) => toPayload('purchaseImport', () => services.imports.start(viewer, input)),
  cancelPurchaseImport: (_p, { input }, { viewer, services }) => toPayload('purchaseImport', () => services.imports.cancel(viewer, input.importId)),
  holdPoints: (_p, { input }, { viewer, services, loaders }) =>
    loaded('hold', () => services.holds.hold(viewer, input), (r) => loaders.holdById.load(r.holdId)),
  captureHold: (_p, { input }, { viewer, services, loaders }) =>
    loaded('hold', () => services.holds.capture(viewer, input), (r) => loaders.holdById.load(r.holdId)),
  releaseHold: (_p, { input }, { viewer, services, loaders }) =>
    loaded('hold', () => services.holds.release(viewer, input), (r) => loaders.holdById.load(r.holdId)),
  async refundCapturedPoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.holds.refund(viewer, input));
    if (!result) return { hold: null, entry: null, userErrors };
    return { hold: await loaders.holdById.load(result.holdId), entry: await loaders.entryById.load(result.entryId), userErrors: [] };
  },
  adjustPoints: (_p, { input }, { viewer, services, loaders }) =>
    loaded('entry', () => services.adjustments.adjust(viewer, input), (r) => loaders.entryById.load(r.entryId)),
  recordReturn: (_p, { input }, { viewer, services, loaders }) =>
    loaded('return', () => services.returns.record(viewer, input), (r) => loaders.returnById.load(r.returnId)),
  transferPoints: (_p, { input }, { viewer, services, loaders }) =>
    loaded('entry', () => services.transfers.transfer(viewer, input), (r) => loaders.entryById.load(r.entryId)),
  donatePoints: (_p, { input }, { viewer, services, loaders }) =>
    loaded('entry', () => services.transfers.donate(viewer, input), (r) => loaders.entryById.load(r.entryId)),
  reinstateExpiredPoints: (_p, { input }, { viewer, services, loaders }) =>
    loaded('entry', () => services.expiry.reinstate(viewer, input), (r) => loaders.entryById.load(r.entryId)),
  createCharity: (_p, { input }, { viewer, services }) => toPayload('charity', () => services.transfers.createCharity(viewer, input.programId, input.name)),
  publishEarningRules: (_p, { input: { programId, ...rules } }, { viewer, services }) =>
    toPayload('ruleSet', () => services.programs.publishRules(viewer, programId, rules)),
  configureLedger: (_p, { input: { programId, ...change } }, { viewer, services }) =>
    toPayload('settings', () => services.programs.configure(viewer, programId, change)),
};
