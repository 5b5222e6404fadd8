import DataLoader from 'dataloader';
import { groupedBy, rowsById } from '@loyalty-graph/shared/db';
import type { Clock } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import {
  accountColumns,
  charityColumns,
  entryColumns,
  holdColumns,
  lineColumns,
  purchaseColumns,
  returnColumns,
  type AccountRow,
  type CharityRow,
  type HoldRow,
  type JournalEntryRow,
  type JournalLineRow,
  type PurchaseRow,
  type ReturnRow,
} from './entities';
import type { BalanceService } from './services/balances';
import { lots } from './services/lots';
import { partnerFunding } from './services/partner-funding';
import type { FundingState } from './domain/partner-funding';

/** Built per request: a loader's cache must never outlive one viewer's request. */
export function createLoaders(db: DataSource, directory: MemberDirectory, balances: BalanceService, clock: Clock) {
  return {
    /** Keyed by `programId/partnerId`: the funding figures are the program's, per partner; one read per program in the batch. */
    partnerFunding: new DataLoader<string, FundingState>(async (keys) => {
      const now = clock.now();
      const byProgram = new Map<string, string[]>();
      for (const key of keys) {
        const [programId, partnerId] = key.split('/') as [string, string];
        byProgram.set(programId, [...(byProgram.get(programId) ?? []), partnerId]);
      }
      const states = new Map<string, FundingState>();
      for (const [programId, partnerIds] of byProgram) {
        const found = await partnerFunding.states(db, programId, partnerIds, now);
        partnerIds.forEach((partnerId, i) => states.set(`${programId}/${partnerId}`, found[i]!));
      }
      return keys.map((key) => states.get(key)!);
    }),
    memberSnapshot: new DataLoader<string, MemberSnapshot | null>((ids) => directory(ids)),
    balanceByMemberId: new DataLoader((ids: readonly string[]) => balances.balances(ids)),
    entryById: rowsById<JournalEntryRow>(db, `SELECT ${entryColumns} FROM journal_entries e WHERE e.id = ANY($1::uuid[])`),
    returnById: rowsById<ReturnRow>(db, `SELECT ${returnColumns} FROM purchase_returns pr WHERE pr.id = ANY($1::uuid[])`),
    expiriesByAccountId: new DataLoader(async (ids: readonly string[]) => {
      const byAccount = await lots.nextExpiries(db, ids);
      return ids.map((id) => byAccount.get(id) ?? []);
    }),
    purchaseById: rowsById<PurchaseRow>(db, `SELECT ${purchaseColumns} FROM purchases p WHERE p.id = ANY($1::uuid[])`),
    holdById: rowsById<HoldRow>(db, `SELECT ${holdColumns} FROM holds h WHERE h.id = ANY($1::uuid[])`),
    charityById: rowsById<CharityRow>(db, `SELECT ${charityColumns} FROM charities c WHERE c.id = ANY($1::uuid[])`),
    accountById: rowsById<AccountRow>(db, `SELECT ${accountColumns} FROM accounts a WHERE a.id = ANY($1::uuid[])`),
    linesByEntryId: groupedBy(
      async (ids) => (await db.query(`SELECT ${lineColumns} FROM journal_lines l WHERE l.entry_id = ANY($1::uuid[]) ORDER BY l.id`, [ids])) as JournalLineRow[],
      (line) => line.entryId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
