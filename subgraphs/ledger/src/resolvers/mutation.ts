import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';

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
  async holdPoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.holds.hold(viewer, input));
    return { hold: result ? await loaders.holdById.load(result.holdId) : null, userErrors };
  },
  async captureHold(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.holds.capture(viewer, input));
    return { hold: result ? await loaders.holdById.load(result.holdId) : null, userErrors };
  },
  async releaseHold(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.holds.release(viewer, input));
    return { hold: result ? await loaders.holdById.load(result.holdId) : null, userErrors };
  },
  async adjustPoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.adjustments.adjust(viewer, input));
    return { entry: result ? await loaders.entryById.load(result.entryId) : null, userErrors };
  },
  async recordReturn(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.returns.record(viewer, input));
    return { return: result ? await loaders.returnById.load(result.returnId) : null, userErrors };
  },
  async transferPoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.transfers.transfer(viewer, input));
    return { entry: result ? await loaders.entryById.load(result.entryId) : null, userErrors };
  },
  async donatePoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.transfers.donate(viewer, input));
    return { entry: result ? await loaders.entryById.load(result.entryId) : null, userErrors };
  },
  async reinstateExpiredPoints(_p, { input }, { viewer, services, loaders }) {
    const { result, userErrors } = await toPayload('result', () => services.expiry.reinstate(viewer, input));
    return { entry: result ? await loaders.entryById.load(result.entryId) : null, userErrors };
  },
  createCharity: (_p, { input }, { viewer, services }) => toPayload('charity', () => services.transfers.createCharity(viewer, input.programId, input.name)),
  publishEarningRules: (_p, { input: { programId, ...rules } }, { viewer, services }) =>
    toPayload('ruleSet', () => services.programs.publishRules(viewer, programId, rules)),
  configureLedger: (_p, { input: { programId, ...change } }, { viewer, services }) =>
    toPayload('settings', () => services.programs.configure(viewer, programId, change)),
};
