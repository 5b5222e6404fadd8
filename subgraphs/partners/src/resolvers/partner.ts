import { forbidden, formatMoneyAmount, rethrowInput } from '@loyalty-graph/shared';
import type { PartnerAgreementResolvers, PartnerResolvers } from '../generated/resolvers';
import { agreementInForce, effectiveUntil } from '../domain/agreements';
import { canReadApiClients, canReadOffers, canReadPartners } from '../domain/policy';
import { listOffers } from '../services/offers';

export const Partner: PartnerResolvers = {
  // Through the per-request loader: N representations, one SQL statement.
  async __resolveReference({ id }, { viewer, loaders }) {
    const found = await loaders.partnerById.load(id);
    if (found && !canReadPartners(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  // Members owns programs: the gateway fetches any other Program field from there.
  program: (partner) => ({ id: partner.programId }),
  agreements: (partner, _args, { loaders }) => loaders.agreementsByPartner.load(partner.id),
  async agreement(partner, { at }, { loaders, clock }) {
    return agreementInForce(await loaders.agreementsByPartner.load(partner.id), at ?? clock.now());
  },
  apiClients(partner, _args, { viewer, loaders }) {
    if (!canReadApiClients(viewer, partner.programId)) throw forbidden('Only the program’s administrators see its API clients');
    return loaders.apiClientsByPartner.load(partner.id);
  },
  // The partner was checked for this viewer already; the service checks again (one rule for every entry).
  statements: (partner, args, { viewer, services }) => rethrowInput(() => services.settlement.statements(viewer, partner.id, args)),
  currentStatement: (partner, _args, { viewer, services }) => services.settlement.current(viewer, partner.id),
  offers(partner, { status, ...page }, { viewer, db }) {
    if (!canReadOffers(viewer, { programId: partner.programId, partnerId: partner.id })) throw forbidden('You can only see your own program');
    return listOffers(db, { partnerId: partner.id }, status, page);
  },
};

const money = (amount: string, currency: string) => ({ amount: formatMoneyAmount(amount, currency), currency });

export const PartnerAgreement: PartnerAgreementResolvers = {
  async effectiveUntil(agreement, _args, { loaders }) {
    return effectiveUntil(await loaders.agreementsByPartner.load(agreement.partnerId), agreement);
  },
  issuePricePerPoint: (a) => money(a.issuePrice, a.currency),
  redemptionPricePerPoint: (a) => money(a.redemptionPrice, a.currency),
  fees: (a) => ({ fixedPerPeriod: money(a.fixedFee, a.currency), perTransaction: money(a.transactionFee, a.currency) }),
};
