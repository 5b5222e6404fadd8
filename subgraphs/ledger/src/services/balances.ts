import { decodeCursor, encodeCursor, forbidden, isUuid, pageSize, toConnection, type Connection, type PageArgs, type Viewer } from '@loyalty-graph/shared';
import { inKeyOrder } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { entryColumns, memberBalanceColumns, type JournalEntryRow, type MemberBalanceRow } from '../entities';
import { canReadMemberPoints } from '../domain/policy';

/** On a statement, memberAmount is what the entry did to this member's reward points (`mine`). */
const statementColumns = entryColumns.with({ memberAmount: 'mine.amount::int' });

export interface StatementFilter {
  kinds?: JournalEntryRow['kind'][] | null;
  from?: Date | null;
  to?: Date | null;
}

/** Balances and statements: what members and agents look at. */
export class BalanceService {
  constructor(private readonly db: DataSource) {}

  /** One statement for a batch of members, from the cached balances (kept by trigger). */
  async balances(memberIds: readonly string[]): Promise<(MemberBalanceRow | null)[]> {
    const rows = (await this.db.query(
      `SELECT ${memberBalanceColumns}
       FROM accounts r JOIN accounts s ON s.owner_id = r.owner_id AND s.program_id = r.program_id AND s.kind = 'MEMBER_STATUS'
       WHERE r.kind = 'MEMBER_REWARD' AND r.owner_id = ANY($1::uuid[])`,
      [memberIds.filter(isUuid)],
    )) as MemberBalanceRow[];
    return inKeyOrder(memberIds, rows, (row) => row.memberId);
  }

  /** The member's entries, newest first, keyset-paginated. */
  async statement(viewer: Viewer, balance: MemberBalanceRow, filter: StatementFilter | null | undefined, page: PageArgs): Promise<Connection<JournalEntryRow>> {
    if (!canReadMemberPoints(viewer, balance.memberId, balance.programId)) throw forbidden('You can see only your own statement');
    const limit = pageSize(page.first);
    const after = decodeCursor(page.after, 2);
    if (after && (Number.isNaN(Date.parse(after[0]!)) || new Date(after[0]!).toISOString() !== after[0] || !/^\d{1,19}$/.test(after[1]!))) decodeCursor('invalid', 2);
    // Every entry that touched the member's accounts (a transfer shows on both statements), with
    // what it did to this member's reward points.
    const rows = (await this.db.query(
      `WITH mine AS (
         SELECT entry_id, coalesce(sum(amount) FILTER (WHERE account_id = $1 AND bucket <> 'HELD'), 0) AS amount
         FROM journal_lines WHERE account_id IN ($1, $2) GROUP BY entry_id
       )
       SELECT ${statementColumns}
       FROM mine JOIN journal_entries e ON e.id = mine.entry_id
       WHERE ($3::text[] IS NULL OR e.kind = ANY($3::text[]))
         AND ($4::timestamptz IS NULL OR e.created_at >= $4)
         AND ($5::timestamptz IS NULL OR e.created_at < $5)
         AND ($6::timestamptz IS NULL OR (e.created_at, e.seq) < ($6, $7::bigint))
       ORDER BY e.created_at DESC, e.seq DESC LIMIT $8`,
      [balance.rewardAccountId, balance.statusAccountId, filter?.kinds?.length ? filter.kinds : null, filter?.from ?? null, filter?.to ?? null, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    )) as JournalEntryRow[];
    return toConnection(rows, limit, (e) => encodeCursor([e.createdAt.toISOString(), e.seq]));
  }
}
