import type { MigrationInterface, QueryRunner } from 'typeorm';

const KINDS_BEFORE = `'ACCRUAL','POSTING','RETURN','HOLD','CAPTURE','RELEASE','ADJUSTMENT','EXPIRY','REINSTATEMENT','TRANSFER','DONATION','BONUS'`;

/**
 * Refunds of captured holds (a reward order cancelled after its points were spent). PostgreSQL
 * keeps the promises, not only our code:
 * - a hold never gives back more than it captured (`refunded_points <= points`), and only a
 *   captured hold gives anything back;
 * - each slice a hold took from a lot comes back at most once (`hold_lots.refunded <= points`),
 *   so two partial refunds never restore the same points to the same lot twice.
 * Both are raised by increments under the hold's row lock.
 */
export class HoldRefunds1765100000000 implements MigrationInterface {
  name = 'HoldRefunds1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check`);
    await q.query(`ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN (${KINDS_BEFORE},'REFUND'))`);
    await q.query(`
      ALTER TABLE holds
        ADD COLUMN refunded_points int NOT NULL DEFAULT 0,
        ADD CONSTRAINT holds_refund_within_capture CHECK (refunded_points BETWEEN 0 AND points),
        ADD CONSTRAINT holds_refund_only_captured CHECK (refunded_points = 0 OR status = 'CAPTURED')`);
    await q.query(`
      ALTER TABLE hold_lots
        ADD COLUMN refunded int NOT NULL DEFAULT 0,
        ADD CONSTRAINT hold_lots_refund_within_slice CHECK (refunded BETWEEN 0 AND points)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hold_lots DROP COLUMN refunded`);
    await q.query(`ALTER TABLE holds DROP CONSTRAINT holds_refund_only_captured, DROP CONSTRAINT holds_refund_within_capture, DROP COLUMN refunded_points`);
    await q.query(`ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check`);
    await q.query(`ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN (${KINDS_BEFORE}))`);
  }
}
