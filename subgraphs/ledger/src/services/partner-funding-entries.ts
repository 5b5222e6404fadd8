import { badUserInput, decodeCursor, encodeCursor, toConnection, type Connection } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { holdColumns, type HoldRow } from '../entities';

/** One ACCRUAL or RETURN entry on a partner's funding account, as settlement reconciles it. */
export interface PartnerFundingEntry {
  entryId: string;
  kind: 'ACCRUAL' | 'RETURN';
  /** Positive for an accrual (points the partner funded), negative for a return. */
  points: number;
  postedAt: Date;
  purchaseId: string | null;
  seq: string;
}

/** Larger than the public lists' 100: only services ask, and a reconciliation reads a whole history. */
const MAX_ENTRIES_PAGE = 1_000;

/**
 * What the partners subgraph needs to reconcile settlement statements to the point: the journal
 * seen from a partner's PARTNER_FUNDING account, and holds by id. Read-only, services only.
 */
export class PartnerFundingService {
  constructor(private readonly db: DataSource) {}

  async entries(input: { programId: string; partnerId: string; postedBefore: Date; first?: number | null; after?: string | null }): Promise<Connection<PartnerFundingEntry>> {
    const limit = input.first ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ENTRIES_PAGE) throw badUserInput(`first must be between 1 and ${MAX_ENTRIES_PAGE}`, 'first');
    const after = decodeCursor(input.after, 1)?.[0] ?? '0';
    if (!/^\d{1,18}$/.test(after)) throw badUserInput('after is not a cursor this list produced', 'after');
    // The funding account's lines, per entry: an accrual's (−points, in PENDING or POSTED) and a
    // return's (+points, pending and posted parts) sum to what the partner funded. POSTING
    // entries move pending to posted on the account and sum to zero: they are not settled.
    const rows = (await this.db.query(
      `SELECT e.id AS "entryId", e.kind, (-sum(l.amount))::int AS points, e.created_at AS "postedAt", e.purchase_id AS "purchaseId", e.seq::text AS seq
       FROM accounts a
       JOIN journal_lines l ON l.account_id = a.id
       JOIN journal_entries e ON e.id = l.entry_id
       WHERE a.program_id = $1 AND a.kind = 'PARTNER_FUNDING' AND a.owner_id = $2
         AND e.kind IN ('ACCRUAL', 'RETURN') AND e.created_at < $3 AND e.seq > $4::bigint
       GROUP BY e.id
       ORDER BY e.seq
       LIMIT $5`,
      [input.programId, input.partnerId, input.postedBefore, after, limit + 1],
    )) as PartnerFundingEntry[];
    return toConnection(rows, limit, (row) => encodeCursor([row.seq]));
  }

  async holds(ids: readonly string[]): Promise<(HoldRow | null)[]> {
    if (ids.length < 1 || ids.length > MAX_ENTRIES_PAGE) throw badUserInput(`ids must hold 1 to ${MAX_ENTRIES_PAGE} hold ids`, 'ids');
    const rows = (await this.db.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = ANY($1::uuid[])`, [ids])) as HoldRow[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }
}
