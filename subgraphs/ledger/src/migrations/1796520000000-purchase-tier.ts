import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Backtests replay recorded purchases through the earning rules, and a TIER multiplier needs the
 * tier the member had when the purchase earned: the member's tier changes later, so it is kept on
 * the purchase. `tier_known` tells a purchase recorded with no tier (null) from one recorded before
 * this column existed (a backtest falls back to the member's current tier for those). The index
 * lets a backtest walk a program's purchases in (occurred_at, id) order, batch after batch.
 */
export class PurchaseTier1796520000000 implements MigrationInterface {
  name = 'PurchaseTier1796520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchases ADD COLUMN tier_id uuid`);
    await q.query(`ALTER TABLE purchases ADD COLUMN tier_known boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX purchases_program_occurred ON purchases (program_id, occurred_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX purchases_program_occurred`);
    await q.query(`ALTER TABLE purchases DROP COLUMN tier_known`);
    await q.query(`ALTER TABLE purchases DROP COLUMN tier_id`);
  }
}
