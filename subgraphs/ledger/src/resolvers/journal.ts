import { forbidden } from '@loyalty-graph/shared';
import type { JournalEntryResolvers, JournalLineResolvers, LedgerAccountResolvers } from '../generated/resolvers';

export const JournalEntry: JournalEntryResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.entryById.load(id),
  lines: (entry, _args, { loaders }) => loaders.linesByEntryId.load(entry.id),
  purchase: (entry, _args, { loaders }) => (entry.purchaseId ? loaders.purchaseById.load(entry.purchaseId) : null),
};

export const JournalLine: JournalLineResolvers = {
  account: async (line, _args, { loaders }) => (await loaders.accountById.load(line.accountId))!,
};

export const LedgerAccount: LedgerAccountResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const account = await loaders.accountById.load(id);
    if (account && viewer.kind !== 'SERVICE' && viewer.programId !== null && viewer.programId !== account.programId) throw forbidden();
    return account;
  },
};
