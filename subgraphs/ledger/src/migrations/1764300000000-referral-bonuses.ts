import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Referral bonuses credited from the members subgraph's ReferralQualified events. */
export class ReferralBonuses1764300000000 implements MigrationInterface {
  name = 'ReferralBonuses1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check`);
    await q.query(
      `ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('ACCRUAL','POSTING','RETURN','HOLD','CAPTURE','RELEASE','ADJUSTMENT','EXPIRY','REINSTATEMENT','TRANSFER','DONATION','BONUS'))`,
    );
    // One bonus per referral and role, whatever the delivery does (a replay that forgot what it
    // processed, an event emitted twice): the primary key is the last word.
    await q.query(`
      CREATE TABLE referral_bonuses (
        referral_id uuid NOT NULL,
        role text NOT NULL CHECK (role IN ('REFERRER', 'REFEREE')),
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        points int NOT NULL CHECK (points > 0),
        entry_id uuid NOT NULL REFERENCES journal_entries(id),
        created_at timestamptz NOT NULL,
        PRIMARY KEY (referral_id, role)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE referral_bonuses`);
    await q.query(`ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_kind_check`);
    await q.query(
      `ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_kind_check CHECK (kind IN ('ACCRUAL','POSTING','RETURN','HOLD','CAPTURE','RELEASE','ADJUSTMENT','EXPIRY','REINSTATEMENT','TRANSFER','DONATION'))`,
    );
  }
}
