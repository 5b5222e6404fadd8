import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';
import type { Loaders } from '../loaders';
import type { WithKey } from '../services/api-clients';

/** Runs a write and loads what it made for the payload; business refusals become userErrors. */
async function loaded<K extends string, R, T>(key: K, run: () => Promise<R>, load: (result: R) => Promise<T | null>) {
  const { result, userErrors } = await toPayload('result', run);
  return { [key]: result ? await load(result) : null, userErrors } as { [P in K]: T | null } & { userErrors: typeof userErrors };
}

/** The client with its key (null on a replay: the key is shown once). */
async function withKey(run: () => Promise<WithKey>, loaders: Loaders) {
  const { result, userErrors } = await toPayload('result', run);
  return { client: result ? await loaders.apiClientById.load(result.clientId) : null, key: result?.key ?? null, userErrors };
}

/** Thin: the services validate and write; payloads are shaped here. */
export const Mutation: MutationResolvers = {
  createPartner: (_p, { input }, { viewer, services, loaders }) => loaded('partner', () => services.partners.create(viewer, input), (r) => loaders.partnerById.load(r.partnerId)),
  updatePartner: (_p, { input }, { viewer, services, loaders }) => loaded('partner', () => services.partners.update(viewer, input), (r) => loaders.partnerById.load(r.partnerId)),
  publishPartnerAgreement: (_p, { input }, { viewer, services, loaders }) =>
    loaded('agreement', () => services.agreements.publish(viewer, input), (r) => loaders.agreementById.load(r.agreementId)),
  createPartnerApiClient: (_p, { input }, { viewer, services, loaders }) => withKey(() => services.apiClients.create(viewer, input), loaders),
  rotatePartnerApiKey: (_p, { input }, { viewer, services, loaders }) => withKey(() => services.apiClients.rotate(viewer, input), loaders),
  addPartnerPrepaidPoints: async (_p, { input }, { viewer, services }) => {
    const { result, userErrors } = await toPayload('result', () => services.prepaid.add(viewer, input));
    return { prepaidBlock: result, userErrors };
  },
  createOffer: (_p, { input }, { viewer, services, loaders }) => loaded('offer', () => services.offers.create(viewer, input), (r) => loaders.offerById.load(r.offerId)),
  updateOffer: (_p, { input }, { viewer, services, loaders }) => loaded('offer', () => services.offers.update(viewer, input), (r) => loaders.offerById.load(r.offerId)),
  publishOffer: (_p, { input }, { viewer, services, loaders }) => loaded('offer', () => services.offers.publish(viewer, input), (r) => loaders.offerById.load(r.offerId)),
  withdrawOffer: (_p, { input }, { viewer, services, loaders }) => loaded('offer', () => services.offers.withdraw(viewer, input), (r) => loaders.offerById.load(r.offerId)),
  revokePartnerApiClient: (_p, { input }, { viewer, services, loaders }) =>
    loaded('client', () => services.apiClients.revoke(viewer, input), (r) => loaders.apiClientById.load(r.clientId)),
  markSettlementStatementPaid: (_p, { input }, { viewer, services }) =>
    loaded('statement', () => services.settlement.markPaid(viewer, input), (r) => services.settlement.byId(r.statementId)),
};
