import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Member accounts' cached balances follow the journal lines per INSERT statement rather than per
 * line: one UPDATE per account the statement touches (summed from the statement's new lines)
 * instead of one per line. Same rule, same moment (inside the inserting statement, so the no
 * overdraft trigger and accounts_balance_in_range still judge every change before anything else
 * runs); a bulk of 1,000 purchases writes 4,000 lines on a few hundred accounts, and the per-line
 * trigger was most of its time. A statement that both debits and credits one account is judged on
 * its net change, which is what the transaction commits anyway.
 */
export class BalancesPerStatement1796830000001 implements MigrationInterface {
  name = 'BalancesPerStatement1796830000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION ledger_apply_lines() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE accounts a SET
          posted = a.posted + s.posted,
          pending = a.pending + s.pending,
          held = a.held + s.held,
          lifetime_earned = a.lifetime_earned + s.earned
        FROM (
          SELECT account_id,
                 coalesce(sum(amount) FILTER (WHERE bucket = 'POSTED'), 0) AS posted,
                 coalesce(sum(amount) FILTER (WHERE bucket = 'PENDING'), 0) AS pending,
                 coalesce(sum(amount) FILTER (WHERE bucket = 'HELD'), 0) AS held,
                 coalesce(sum(amount) FILTER (WHERE entry_kind IN ('ACCRUAL', 'RETURN') AND bucket <> 'HELD'), 0) AS earned
          FROM new_lines GROUP BY account_id
        ) s
        WHERE a.id = s.account_id AND a.tracks_balance;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER journal_lines_apply ON journal_lines`);
    await q.query(`CREATE TRIGGER journal_lines_apply AFTER INSERT ON journal_lines REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_lines()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER journal_lines_apply ON journal_lines`);
    await q.query(`CREATE TRIGGER journal_lines_apply AFTER INSERT ON journal_lines FOR EACH ROW EXECUTE FUNCTION ledger_apply_line()`);
    await q.query(`DROP FUNCTION ledger_apply_lines()`);
  }
}
