import { forbidden, rethrowInput } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReadOffers, canReadPartners } from '../domain/policy';
import { listOffers } from '../services/offers';

export const Query: QueryResolvers = {
  async partner(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.partnerById.load(id);
    if (found && !canReadPartners(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  // @access lets SERVICE viewers only (the gateway); nothing else to check.
  apiKeyGrant: (_parent, { key }, { services }) => services.apiClients.grant(key),
  // Who may read which partner's statements is the service's policy (a partner: its own only).
  settlementStatement: (_parent, { id }, { viewer, services }) => rethrowInput(() => services.settlement.statement(viewer, id)),
  settlementStatements: (_parent, { partnerId, ...page }, { viewer, services }) => rethrowInput(() => services.settlement.statements(viewer, partnerId, page)),
  currentSettlementStatement: (_parent, { partnerId }, { viewer, services }) => rethrowInput(() => services.settlement.current(viewer, partnerId)),
  settlementReconciliation: (_parent, { statementId }, { viewer, services }) => rethrowInput(() => services.settlement.reconciliation(viewer, statementId)),
  async offer(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.offerById.load(id);
    // Another partner's offer is "none" to a partner; another program's is FORBIDDEN to staff, as for partners.
    if (found && !canReadOffers(viewer, found)) {
      if (viewer.kind === 'PARTNER') return null;
      throw forbidden('You can only see your own program');
    }
    return found;
  },
  // @access lets only partner keys with offers:write in; the partner is the key's.
  partnerOffers: (_parent, { status, ...page }, { viewer, db }) => listOffers(db, { partnerId: viewer.partnerId! }, status, page),
};
