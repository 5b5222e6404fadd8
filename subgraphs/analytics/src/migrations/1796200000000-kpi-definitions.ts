import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The KPIs of issue 12 beyond counts: daily rollups of the point facts, versioned analytics
 * settings (the activity window), success criteria of relational activities, and the indexes the
 * activity, tier-at-the-time and channel filters read. (POSTED facts and point_facts.pending_delta,
 * which pointsPending reads, come with MoneyFacts1796300000000.)
 */
export class KpiDefinitions1796200000000 implements MigrationInterface {
  name = 'KpiDefinitions1796200000000';

  async up(q: QueryRunner): Promise<void> {
    // Activity (active, churn, retention, cohorts) reads purchases by time with their member, index only.
    await q.query(`CREATE INDEX point_facts_purchases ON point_facts (program_id, occurred_at, member_id) WHERE kind = 'ACCRUED'`);
    // The channel filter finds a return's or a posting's purchase (its channel is on the accrual).
    await q.query(`CREATE INDEX point_facts_purchase ON point_facts (program_id, purchase_id) WHERE kind = 'ACCRUED'`);
    // The tier filter asks a member's tier at an instant (their latest ENROLLED or TIER_CHANGED before it);
    // activity asks whether they were CLOSED by then.
    await q.query(`CREATE INDEX member_facts_tier_history ON member_facts (program_id, member_id, occurred_at) WHERE kind IN ('ENROLLED', 'TIER_CHANGED')`);
    await q.query(`CREATE INDEX member_facts_closed ON member_facts (program_id, member_id, occurred_at) WHERE kind = 'STATUS_CHANGED' AND to_status = 'CLOSED'`);
    // Daily rollups of the point facts (UTC days), kept in the consumer's transaction when a fact
    // row is new: the unfiltered KPIs of calendar buckets sum days instead of every fact.
    await q.query(`
      CREATE TABLE point_days (
        program_id uuid NOT NULL,
        day date NOT NULL,
        issued bigint NOT NULL DEFAULT 0,
        redeemed bigint NOT NULL DEFAULT 0,
        expired bigint NOT NULL DEFAULT 0,
        purchases integer NOT NULL DEFAULT 0,
        accrued bigint NOT NULL DEFAULT 0,
        pending_delta bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (program_id, day)
      )`);
    await q.query(`
      CREATE TABLE purchase_days (
        program_id uuid NOT NULL,
        day date NOT NULL,
        currency char(3) NOT NULL,
        purchases integer NOT NULL DEFAULT 0,
        spend numeric(20, 4) NOT NULL DEFAULT 0,
        PRIMARY KEY (program_id, day, currency)
      )`);
    await q.query(`
      INSERT INTO point_days (program_id, day, issued, redeemed, expired, purchases, accrued, pending_delta)
      SELECT program_id, day, sum(issuance_points),
             coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0),
             coalesce(sum(points) FILTER (WHERE kind = 'EXPIRED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REINSTATED'), 0),
             count(*) FILTER (WHERE kind = 'ACCRUED'), coalesce(sum(points) FILTER (WHERE kind = 'ACCRUED'), 0),
             -- point_facts.pending_delta comes with MoneyFacts1796300000000 (after this one), which backfills it the same way
             coalesce(sum(points) FILTER (WHERE kind = 'ACCRUED' AND pending), 0)
        FROM point_facts GROUP BY program_id, day`);
    await q.query(`
      INSERT INTO purchase_days (program_id, day, currency, purchases, spend)
      SELECT program_id, day, currency, count(*), sum(amount) FROM point_facts
       WHERE kind = 'ACCRUED' AND amount IS NOT NULL AND currency IS NOT NULL GROUP BY program_id, day, currency`);
    // Versions of a program's analytics settings. Version 1 is the built-in default (90 days, from
    // the beginning); each configureAnalytics adds the next one, effective from a time not in the
    // past, so a bucket already published keeps the version it was computed with.
    await q.query(`
      CREATE TABLE analytics_settings (
        program_id uuid NOT NULL,
        version integer NOT NULL CHECK (version >= 2),
        active_window_days integer NOT NULL CHECK (active_window_days BETWEEN 1 AND 730),
        effective_from timestamptz NOT NULL,
        idempotency_key text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, version),
        UNIQUE (program_id, idempotency_key)
      )`);
    // What a relational activity (a benefit, a service, an offer) is meant to achieve, as a KPI
    // compared with a target. One criterion per activity, KPI and segment (null: every member):
    // defining it again replaces its comparison, target and period.
    await q.query(`
      CREATE TABLE success_criteria (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        activity_kind text NOT NULL CHECK (activity_kind IN ('BENEFIT', 'SERVICE', 'OFFER')),
        activity_id uuid NOT NULL,
        activity_name text NOT NULL,
        kpi text NOT NULL,
        comparison text NOT NULL CHECK (comparison IN ('AT_LEAST', 'AT_MOST')),
        target numeric(24, 6) NOT NULL,
        segment_id uuid,
        period text NOT NULL CHECK (period IN ('DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR')),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX success_criteria_key ON success_criteria (program_id, activity_kind, activity_id, kpi, segment_id) NULLS NOT DISTINCT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE success_criteria`);
    await q.query(`DROP TABLE analytics_settings`);
    await q.query(`DROP TABLE purchase_days`);
    await q.query(`DROP TABLE point_days`);
    await q.query(`DROP INDEX member_facts_closed`);
    await q.query(`DROP INDEX member_facts_tier_history`);
    await q.query(`DROP INDEX point_facts_purchase`);
    await q.query(`DROP INDEX point_facts_purchases`);
  }
}
