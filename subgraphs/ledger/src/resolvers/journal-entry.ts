import type { JournalEntryResolvers } from '../generated/resolvers';
import { canSeeLineAccount, canSeeWhoActed, seesEveryLine } from '../domain/policy';

export const JournalEntry: JournalEntryResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.entryById.load(id),
  /**
   * Members see their own side of an entry: a transfer's other member (their account ids) stays
   * private. Staff see every line.
   */
  async lines(entry, _args, { viewer, loaders }) {
    const lines = await loaders.linesByEntryId.load(entry.id);
    // Only a member's view needs the lines' accounts.
    if (seesEveryLine(viewer)) return lines;
    const accounts = await Promise.all(lines.map((line) => loaders.accountById.load(line.accountId)));
    return lines.filter((_line, i) => canSeeLineAccount(viewer, accounts[i] ?? null));
  },
  /** Who acted is for staff; a member sees it only for what they did themselves. */
  createdBy: (entry, _args, { viewer }) => (canSeeWhoActed(viewer, entry) ? entry.createdBy : null),
  purchase: (entry, _args, { loaders }) => (entry.purchaseId ? loaders.purchaseById.load(entry.purchaseId) : null),
};
