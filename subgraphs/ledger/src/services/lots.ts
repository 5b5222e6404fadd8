import type { EntityManager } from 'typeorm';
import { returning } from './store';

/** A slice of points taken from one lot. */
export interface Taken {
  lotId: string;
  points: number;
  expiresAt: Date | null;
}

/**
 * Posted reward points are kept in lots by expiry date, so spending takes the soonest-expiring
 * points first and members see what expires when. Invariant, per member account: the lots'
 * remaining points add up to what is available (posted − held), or to 0 while the balance is
 * negative after a clawback. Callers hold the account's row lock.
 */
export const lots = {
  /**
   * Records points just credited to POSTED. While a clawback left the balance negative, the
   * credit first pays that back and only the rest becomes spendable lots.
   */
  async credit(tx: EntityManager, accountId: string, entryId: string, earnedAt: Date, batches: { points: number; expiresAt: Date | null }[]): Promise<void> {
    const [row] = (await tx.query(`SELECT (posted - held)::int AS available FROM accounts WHERE id = $1`, [accountId])) as { available: number }[];
    const credited = batches.reduce((sum, b) => sum + b.points, 0);
    // available is already after the credit; before it, lots held max(0, available − credited).
    let toLots = Math.min(credited, Math.max(0, row!.available));
    // When part of the credit repays a debt, keep the latest-expiring points: best for the member.
    const ordered = [...batches].sort((a, b) => (b.expiresAt?.getTime() ?? Infinity) - (a.expiresAt?.getTime() ?? Infinity));
    const rows: { points: number; expiresAt: Date | null }[] = [];
    for (const batch of ordered) {
      const points = Math.min(batch.points, toLots);
      if (points > 0) rows.push({ points, expiresAt: batch.expiresAt });
      toLots -= points;
    }
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO point_lots (account_id, source_entry_id, earned_at, expires_at, amount, remaining)
       SELECT $1, $2, $3, expires_at, points, points FROM unnest($4::timestamptz[], $5::int[]) AS t(expires_at, points)`,
      [accountId, entryId, earnedAt, rows.map((r) => r.expiresAt), rows.map((r) => r.points)],
    );
  },

  /** Takes up to `points` from the soonest-expiring lots (one statement); returns what it took. */
  async consume(tx: EntityManager, accountId: string, points: number): Promise<Taken[]> {
    if (points <= 0) return [];
    return returning<Taken>(
      tx,
      `WITH ordered AS (
         SELECT id, remaining, expires_at,
                sum(remaining) OVER (ORDER BY expires_at NULLS LAST, earned_at, id) - remaining AS before
         FROM point_lots WHERE account_id = $1 AND remaining > 0
       ), take AS (
         SELECT id, expires_at, LEAST(remaining, $2 - before) AS points FROM ordered WHERE before < $2
       )
       UPDATE point_lots l SET remaining = l.remaining - take.points FROM take WHERE l.id = take.id
       RETURNING l.id AS "lotId", take.points::int AS points, take.expires_at AS "expiresAt"`,
      [accountId, points],
    );
  },

  /** Gives taken points back to the lots they came from (a released hold). */
  async restore(tx: EntityManager, taken: { lotId: string; points: number }[]): Promise<void> {
    if (!taken.length) return;
    await tx.query(
      `UPDATE point_lots l SET remaining = l.remaining + t.points FROM unnest($1::uuid[], $2::int[]) AS t(id, points) WHERE l.id = t.id`,
      [taken.map((t) => t.lotId), taken.map((t) => t.points)],
    );
  },

  /** The member's next expiries, soonest first, summed per date. */
  async nextExpiries(db: Pick<EntityManager, 'query'>, accountIds: readonly string[], limit = 5): Promise<Map<string, { points: number; expiresAt: Date }[]>> {
    const rows = (await db.query(
      `SELECT account_id AS "accountId", expires_at AS "expiresAt", sum(remaining)::int AS points
       FROM point_lots WHERE account_id = ANY($1::uuid[]) AND remaining > 0 AND expires_at IS NOT NULL
       GROUP BY account_id, expires_at ORDER BY expires_at`,
      [accountIds],
    )) as { accountId: string; expiresAt: Date; points: number }[];
    const byAccount = new Map<string, { points: number; expiresAt: Date }[]>();
    for (const row of rows) {
      const list = byAccount.get(row.accountId) ?? [];
      if (list.length < limit) list.push({ points: row.points, expiresAt: row.expiresAt });
      byAccount.set(row.accountId, list);
    }
    return byAccount;
  },
};
