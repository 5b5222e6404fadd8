import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plausible purchases: each program says how old a purchase its tills and partners may record
 * (purchase_max_age_days, 90 days unless configured), and a purchase total keeps up to four
 * decimals, the most any ISO 4217 currency has (KWD has 3, CLF 4): numeric(18,2) rounded a
 * KWD 1.234 basket to 1.23. A member's balances stay within GraphQL's Int (MemberPoints, and
 * the ledger's ::int reads): a movement that would leave them is refused (BALANCE_LIMIT_EXCEEDED)
 * instead of failing later on every read of the member's points.
 */
export class PlausiblePurchases1764900000000 implements MigrationInterface {
  name = 'PlausiblePurchases1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ledger_settings ADD COLUMN purchase_max_age_days int NOT NULL DEFAULT 90 CHECK (purchase_max_age_days BETWEEN 1 AND 3650)`);
    await q.query(`ALTER TABLE purchases ALTER COLUMN total TYPE numeric(20,4)`);
    await q.query(`
      ALTER TABLE accounts ADD CONSTRAINT accounts_balance_in_range CHECK (NOT tracks_balance OR (
        posted BETWEEN -2147483647 AND 2147483647 AND pending BETWEEN -2147483647 AND 2147483647
        AND held BETWEEN -2147483647 AND 2147483647 AND lifetime_earned BETWEEN -2147483647 AND 2147483647
        AND posted + pending BETWEEN -2147483647 AND 2147483647 AND posted - held BETWEEN -2147483647 AND 2147483647))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_balance_in_range`);
    await q.query(`ALTER TABLE purchases ALTER COLUMN total TYPE numeric(18,2)`);
    await q.query(`ALTER TABLE ledger_settings DROP COLUMN purchase_max_age_days`);
  }
}
