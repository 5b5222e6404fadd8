import DataLoader from 'dataloader';
import { isUuid } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import type { AccountRow, HoldRow, JournalEntryRow, JournalLineRow, PurchaseRow } from './entities';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import type { BalanceService } from './services/balances';
import { ENTRY_COLUMNS } from './services/balances';
import { HOLD_COLUMNS } from './services/holds';
import { lots } from './services/lots';
import { PURCHASE_COLUMNS } from './services/purchases';
import { RETURN_COLUMNS, type ReturnRow } from './services/returns';

/** Keys → rows in key order, null for misses; one SQL statement per batch. */
function rowsById<T extends { id: string }>(db: DataSource, sql: string) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = (await db.query(sql, [ids.filter(isUuid)])) as T[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Built per request: a loader's cache must never outlive one viewer's request. */
export function createLoaders(db: DataSource, directory: MemberDirectory, balances: BalanceService) {
  return {
    memberSnapshot: new DataLoader<string, MemberSnapshot | null>((ids) => directory(ids)),
    balanceByMemberId: new DataLoader((ids: readonly string[]) => balances.balances(ids)),
    entryById: rowsById<JournalEntryRow>(db, `SELECT ${ENTRY_COLUMNS} FROM journal_entries e WHERE e.id = ANY($1::uuid[])`),
    returnById: rowsById<ReturnRow>(db, `SELECT ${RETURN_COLUMNS} FROM purchase_returns WHERE id = ANY($1::uuid[])`),
    expiriesByAccountId: new DataLoader(async (ids: readonly string[]) => {
      const byAccount = await lots.nextExpiries(db, ids);
      return ids.map((id) => byAccount.get(id) ?? []);
    }),
    purchaseById: rowsById<PurchaseRow>(db, `SELECT ${PURCHASE_COLUMNS} FROM purchases WHERE id = ANY($1::uuid[])`),
    holdById: rowsById<HoldRow>(db, `SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ANY($1::uuid[])`),
    accountById: rowsById<AccountRow>(db, `SELECT id, program_id AS "programId", kind, owner_id AS "ownerId" FROM accounts WHERE id = ANY($1::uuid[])`),
    linesByEntryId: new DataLoader<string, JournalLineRow[]>(async (ids) => {
      const rows = (await db.query(
        `SELECT entry_id AS "entryId", account_id AS "accountId", bucket, amount::int AS amount FROM journal_lines WHERE entry_id = ANY($1::uuid[]) ORDER BY id`,
        [ids],
      )) as JournalLineRow[];
      return ids.map((id) => rows.filter((row) => row.entryId === id));
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
