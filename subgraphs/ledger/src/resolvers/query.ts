import { forbidden, toPayload } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReadEntry, canReadLedgerJobs } from '../domain/policy';

export const Query: QueryResolvers = {
  async partnerFunding(_parent, _args, { viewer, loaders }) {
    if (viewer.kind !== 'PARTNER' || !viewer.partnerId || !viewer.programId) throw forbidden('Only a partner’s own API key asks for its funding');
    return loaders.partnerFunding.load(`${viewer.programId}/${viewer.partnerId}`);
  },
  async ledgerJobs(_parent, _args, { viewer, scheduler }) {
    if (!canReadLedgerJobs(viewer)) throw forbidden('Only platform operators see the ledger’s jobs');
    return scheduler.states();
  },
  purchaseImport: (_parent, { id }, { viewer, services }) => services.imports.get(viewer, id),
  async journalEntry(_parent, { id }, { viewer, loaders }) {
    const entry = await loaders.entryById.load(id);
    if (entry && !canReadEntry(viewer, entry)) throw forbidden('You cannot see this entry');
    return entry;
  },
  async quotePurchase(_parent, { input }, { viewer, services }) {
    const payload = await toPayload('quote', () => services.purchases.quote(viewer, input.memberId, input.basket, input.occurredAt));
    if (!payload.quote) return { quote: null, userErrors: payload.userErrors };
    const { discount, currency, ...quote } = payload.quote;
    return { quote: { ...quote, discount: discount === null ? null : { amount: discount, currency } }, userErrors: [] };
  },
  // @access lets internal services only (settlement's reconciliation); nothing else to check.
  partnerFundingEntries: (_parent, args, { services }) => services.partnerFunding.entries(args),
  pointsHolds: (_parent, { ids }, { services }) => services.partnerFunding.holds(ids),
  // SERVICE only (@access): the same sums as Program.pointsTotals, for analytics' reconciliation.
  programPointCounts: (_parent, { programId }, { services }) => services.programs.totals(programId),
};
