import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Automatic tiers (a projection of the ledger's status points), referrals, and the per-program
 * settings for both. The outbox, consumer and scheduler tables come from shared migrations.
 */
export class TiersReferralsEvents1764200000000 implements MigrationInterface {
  name = 'TiersReferralsEvents1764200000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per program once configured; absent means the defaults (calendar years, no referrals).
    await q.query(`
      CREATE TABLE program_settings (
        program_id uuid PRIMARY KEY REFERENCES programs(id),
        period_months int NOT NULL CHECK (period_months BETWEEN 1 AND 36),
        period_anchor timestamptz NOT NULL,
        downgrade text NOT NULL CHECK (downgrade IN ('ONE_TIER', 'TO_QUALIFIED')),
        grace_days int NOT NULL CHECK (grace_days BETWEEN 0 AND 365),
        manual_mode text NOT NULL CHECK (manual_mode IN ('FLOOR', 'OVERRIDE')),
        referral_trigger text CHECK (referral_trigger IN ('ENROLMENT', 'FIRST_PURCHASE')),
        referrer_bonus int NOT NULL DEFAULT 0 CHECK (referrer_bonus BETWEEN 0 AND 1000000),
        referee_bonus int NOT NULL DEFAULT 0 CHECK (referee_bonus BETWEEN 0 AND 1000000),
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      ALTER TABLE members
        ADD COLUMN manual_tier_id uuid REFERENCES tiers(id),
        ADD COLUMN manual_until timestamptz,
        ADD COLUMN downgrade_due_at timestamptz,
        ADD COLUMN tier_period_start timestamptz,
        ADD COLUMN referral_code text`);
    // Existing members: evaluated from the period they are in now; codes drawn like new ones.
    await q.query(`UPDATE members SET tier_period_start = date_trunc('year', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
    // Bulk imports that leave it out get the default rules' period (the calendar year).
    await q.query(`ALTER TABLE members ALTER COLUMN tier_period_start SET DEFAULT (date_trunc('year', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`);
    await q.query(`UPDATE members SET referral_code = upper(substr(md5(id::text || random()::text), 1, 10))`);
    await q.query(`ALTER TABLE members ALTER COLUMN tier_period_start SET NOT NULL`);
    // A tier an agent set by hand (the member's latest tier change was manual) stays theirs: it
    // becomes a manual assignment, or the first period end would take it away.
    await q.query(`
      UPDATE members m SET manual_tier_id = m.tier_id
      FROM (SELECT DISTINCT ON (member_id) member_id, source, to_tier_id FROM tier_changes ORDER BY member_id, changed_at DESC) last
      WHERE last.member_id = m.id AND last.source = 'MANUAL' AND last.to_tier_id = m.tier_id`);
    await q.query(`CREATE UNIQUE INDEX members_referral_code ON members (program_id, referral_code)`);
    await q.query(`CREATE INDEX members_downgrade_due ON members (downgrade_due_at) WHERE downgrade_due_at IS NOT NULL`);
    await q.query(`CREATE INDEX members_tier_period ON members (program_id, tier_period_start)`);
    // Status points as the ledger's events bring them, each with the time it counts at (a purchase's
    // time; a return's is its purchase's). A period's points are a sum over its range, so changing
    // the qualification period re-buckets nothing and loses nothing.
    await q.query(`
      CREATE TABLE status_points (
        id bigserial PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES members(id),
        purchase_id uuid NOT NULL,
        earned_at timestamptz NOT NULL,
        points bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX status_points_member ON status_points (member_id, earned_at)`);
    await q.query(`CREATE INDEX status_points_purchase ON status_points (purchase_id)`);
    // The period-end job walks a program's open memberships by id.
    await q.query(`CREATE INDEX members_open_by_program ON members (program_id, id) WHERE status <> 'CLOSED'`);
    await q.query(`
      CREATE TABLE referrals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL REFERENCES programs(id),
        referrer_id uuid NOT NULL REFERENCES members(id),
        referee_id uuid NOT NULL UNIQUE REFERENCES members(id),
        status text NOT NULL CHECK (status IN ('PENDING', 'QUALIFIED')),
        -- The program's trigger when the friend enrolled: a later change of the rules does not strand it.
        trigger text CHECK (trigger IN ('ENROLMENT', 'FIRST_PURCHASE')),
        referrer_bonus int,
        referee_bonus int,
        created_at timestamptz NOT NULL,
        qualified_at timestamptz,
        CHECK (referrer_id <> referee_id)
      )`);
    await q.query(`CREATE INDEX referrals_referrer ON referrals (referrer_id, created_at DESC)`);
    // Automatic and manual changes can share a timestamp (an agent's floor, then an upgrade in the
    // same second): a sequence keeps the history in the order it happened.
    await q.query(`ALTER TABLE tier_changes ADD COLUMN reason_code text, ADD COLUMN seq bigserial`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tier_changes DROP COLUMN reason_code, DROP COLUMN seq`);
    await q.query(`DROP INDEX members_open_by_program`);
    for (const table of ['referrals', 'status_points', 'program_settings']) await q.query(`DROP TABLE ${table}`);
    await q.query(`ALTER TABLE members DROP COLUMN manual_tier_id, DROP COLUMN manual_until, DROP COLUMN downgrade_due_at, DROP COLUMN tier_period_start, DROP COLUMN referral_code`);
  }
}
