import { forbidden, rethrowInput } from '@loyalty-graph/shared';
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
  // Who may read which partner's statements is the service's policy (a partner: its own only).
  settlementStatement: (_parent, { id }, { viewer, services }) => rethrowInput(() => services.settlement.statement(viewer, id)),
  settlementStatements: (_parent, { partnerId, ...page }, { viewer, services }) => rethrowInput(() => services.settlement.statements(viewer, partnerId, page)),
  currentSettlementStatement: (_parent, { partnerId }, { viewer, services }) => rethrowInput(() => services.settlement.current(viewer, partnerId)),
  settlementReconciliation: (_parent, { statementId }, { viewer, services }) => rethrowInput(() => services.settlement.reconciliation(viewer, statementId)),
};
