import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plausible purchases: each program says how old a purchase its tills and partners may record
 * (purchase_max_age_days, 90 days unless configured), and a purchase total keeps up to four
 * decimals, the most any ISO 4217 currency has (KWD has 3, CLF 4): numeric(18,2) rounded a
 * KWD 1.234 basket to 1.23.
 */
export class PlausiblePurchases1764900000000 implements MigrationInterface {
  name = 'PlausiblePurchases1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_settings ADD COLUMN purchase_max_age_days int NOT NULL DEFAULT 90 CHECK (purchase_max_age_days BETWEEN 1 AND 3650)`);
    await q.query(`ALTER TABLE purchases ALTER COLUMN total TYPE numeric(20,4)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE purchases ALTER COLUMN total TYPE numeric(18,2)`);
    await q.query(`ALTER TABLE ledger_settings DROP COLUMN purchase_max_age_days`);
  }
}
