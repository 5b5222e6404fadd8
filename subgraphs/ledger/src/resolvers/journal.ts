import { forbidden } from '@loyalty-graph/shared';
import type { JournalEntryResolvers, JournalLineResolvers, LedgerAccountResolvers } from '../generated/resolvers';

export const JournalEntry: JournalEntryResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.entryById.load(id),
  /**
   * Members see their own side of an entry: a transfer's other member (their account ids) stays
   * private. Staff see every line.
   */
  async lines(entry, _args, { viewer, loaders }) {
    const lines = await loaders.linesByEntryId.load(entry.id);
    if (viewer.kind !== 'MEMBER') return lines;
    const accounts = await Promise.all(lines.map((line) => loaders.accountById.load(line.accountId)));
    return lines.filter((_line, i) => {
      const account = accounts[i];
      return !account?.kind.startsWith('MEMBER_') || account.ownerId === viewer.memberId;
    });
  },
  /** Who acted is for staff; a member sees it only for what they did themselves. */
  createdBy: (entry, _args, { viewer }) => (viewer.kind === 'MEMBER' && entry.createdBy !== viewer.subject ? null : entry.createdBy),
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
