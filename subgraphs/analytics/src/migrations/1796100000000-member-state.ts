import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What analysis needs beyond the movements: each purchase's money and channel on its fact, more
 * kinds of member facts (tier, groups, consents, referrals), and `member_state`, one row per member
 * kept current from the events (segments, filters and RFM read it instead of folding every fact on
 * each query). State changes only when its fact row is new, so a redelivery changes nothing.
 */
export class MemberState1796100000000 implements MigrationInterface {
  name = 'MemberState1796100000000';

  async up(q: QueryRunner): Promise<void> {
    // The basket's total, currency and channel (PointsAccrued carries them since this change; null on older events).
    await q.query(`ALTER TABLE point_facts ADD COLUMN amount numeric(20, 4), ADD COLUMN currency char(3), ADD COLUMN channel text`);
    // What the fact did to the member's balance (posted and pending together): + earned, − spent,
    // expired or taken back by a return. A transfer has two rows, the sender's (−) and the receiver's (+),
    // so the key becomes (event, member); every other event still has one row.
    await q.query(`ALTER TABLE point_facts ADD COLUMN member_delta bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE point_facts DROP CONSTRAINT point_facts_pkey, ADD PRIMARY KEY (event_id, member_id)`);
    await q.query(`CREATE INDEX point_facts_member ON point_facts (program_id, member_id, occurred_at)`);
    await q.query(`ALTER TABLE member_facts DROP CONSTRAINT member_facts_kind_check`);
    await q.query(`ALTER TABLE member_facts ADD CONSTRAINT member_facts_kind_check CHECK (kind IN ('ENROLLED', 'STATUS_CHANGED', 'TIER_CHANGED', 'GROUPS_CHANGED', 'CONSENTS_CHANGED', 'REFERRAL_QUALIFIED'))`);
    // TIER_CHANGED: from/to tier (ENROLLED: to_tier_id is the entry tier); REFERRAL_QUALIFIED: the referral and the referrer (member_id is the referee).
    await q.query(`ALTER TABLE member_facts ADD COLUMN from_tier_id uuid, ADD COLUMN to_tier_id uuid, ADD COLUMN referral_id uuid, ADD COLUMN referrer_id uuid, ADD COLUMN partner_id uuid, ADD COLUMN detail jsonb`);
    // detail: GROUPS_CHANGED {groupIds}, CONSENTS_CHANGED {consents: ['CHANNEL:PURPOSE', …] granted}.
    await q.query(`
      CREATE TABLE member_state (
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        -- null until MemberEnrolled is seen (a ledger event can arrive first: the feeds are independent)
        enrolled_at timestamptz,
        enrolment_channel text,
        enrolled_through_partner_id uuid,
        referral_id uuid,
        status text NOT NULL DEFAULT 'ACTIVE',
        tier_id uuid,
        group_ids uuid[] NOT NULL DEFAULT '{}',
        -- granted consents as 'CHANNEL:PURPOSE' (e.g. 'EMAIL:MARKETING'); absent means not granted
        consents text[] NOT NULL DEFAULT '{}',
        purchases integer NOT NULL DEFAULT 0,
        -- gross spend of purchases that earned points, in the program's currency (returns not subtracted)
        spend numeric(20, 4) NOT NULL DEFAULT 0,
        first_purchase_at timestamptz,
        last_purchase_at timestamptz,
        -- the member's points as the ledger moves them (posted and pending together)
        points_balance bigint NOT NULL DEFAULT 0,
        points_earned bigint NOT NULL DEFAULT 0,
        points_redeemed bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (program_id, member_id)
      )`);
    await q.query(`CREATE INDEX member_state_tier ON member_state (program_id, tier_id)`);
    await q.query(`CREATE INDEX member_state_last_purchase ON member_state (program_id, last_purchase_at)`);
    // Who is in which segment now (segments are analytics' own; SegmentMembershipChanged tells the
    // others). Surveys, KPI filters and profiles read it.
    await q.query(`
      CREATE TABLE segment_members (
        program_id uuid NOT NULL,
        segment_id uuid NOT NULL,
        member_id uuid NOT NULL,
        since timestamptz NOT NULL,
        PRIMARY KEY (segment_id, member_id)
      )`);
    await q.query(`CREATE INDEX segment_members_member ON segment_members (program_id, member_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE segment_members`);
    await q.query(`DROP TABLE member_state`);
    await q.query(`ALTER TABLE member_facts DROP COLUMN from_tier_id, DROP COLUMN to_tier_id, DROP COLUMN referral_id, DROP COLUMN referrer_id, DROP COLUMN partner_id, DROP COLUMN detail`);
    await q.query(`DELETE FROM member_facts WHERE kind NOT IN ('ENROLLED', 'STATUS_CHANGED')`);
    await q.query(`ALTER TABLE member_facts DROP CONSTRAINT member_facts_kind_check`);
    await q.query(`ALTER TABLE member_facts ADD CONSTRAINT member_facts_kind_check CHECK (kind IN ('ENROLLED', 'STATUS_CHANGED'))`);
    await q.query(`DROP INDEX point_facts_member`);
    await q.query(`DELETE FROM point_facts WHERE kind = 'TRANSFERRED' AND member_delta > 0`);
    await q.query(`ALTER TABLE point_facts DROP CONSTRAINT point_facts_pkey, ADD PRIMARY KEY (event_id), DROP COLUMN member_delta`);
    await q.query(`ALTER TABLE point_facts DROP COLUMN amount, DROP COLUMN currency, DROP COLUMN channel`);
  }
}
