import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  BACKFILL_POINT_DIMENSIONS,
  MEMBER_DAYS_BY_FROM_FACTS,
  POINT_DAYS_BY_FROM_FACTS,
  PURCHASE_DAYS_BY_FROM_FACTS,
  SET_MEMBER_DIMENSIONS,
} from '../services/kpi-dimensions';

/**
 * Daily rollups per filter dimension (tier at the fact's instant, partner, channel), so a KPI
 * filtered by them over calendar buckets sums days instead of scanning every fact with a tier
 * lookup per row (services/kpi-dimensions.ts has the definitions, the scan's). Each fact keeps the
 * dimensions it was counted under (`kpi_*`; `kpi_at` is the instant its tier was taken at, NULL
 * while not counted), so a late tier change or purchase moves exactly what was counted where.
 * An absent dimension is NULL, and the keys treat NULLs as equal (NULLS NOT DISTINCT). The facts
 * already there are resolved and summed here, set-based.
 */
export class FilteredRollups1797041000000 implements MigrationInterface {
  name = 'FilteredRollups1797041000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE point_facts ADD COLUMN kpi_tier_id uuid, ADD COLUMN kpi_partner_id uuid, ADD COLUMN kpi_channel text, ADD COLUMN kpi_at timestamptz`);
    await q.query(`ALTER TABLE member_facts ADD COLUMN kpi_tier_id uuid, ADD COLUMN kpi_partner_id uuid, ADD COLUMN kpi_at timestamptz`);
    // A late accrual finds the returns and postings of its purchase that arrived before it.
    await q.query(`CREATE INDEX point_facts_purchase_moves ON point_facts (program_id, purchase_id) WHERE kind <> 'ACCRUED' AND purchase_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE point_days_by (
        program_id uuid NOT NULL,
        day date NOT NULL,
        tier_id uuid,
        partner_id uuid,
        channel text,
        issued bigint NOT NULL DEFAULT 0,
        redeemed bigint NOT NULL DEFAULT 0,
        expired bigint NOT NULL DEFAULT 0,
        purchases integer NOT NULL DEFAULT 0,
        accrued bigint NOT NULL DEFAULT 0,
        pending_delta bigint NOT NULL DEFAULT 0,
        CONSTRAINT point_days_by_key UNIQUE NULLS NOT DISTINCT (program_id, day, tier_id, partner_id, channel)
      )`);
    await q.query(`
      CREATE TABLE purchase_days_by (
        program_id uuid NOT NULL,
        day date NOT NULL,
        tier_id uuid,
        partner_id uuid,
        channel text,
        currency char(3) NOT NULL,
        purchases integer NOT NULL DEFAULT 0,
        spend numeric(20, 4) NOT NULL DEFAULT 0,
        CONSTRAINT purchase_days_by_key UNIQUE NULLS NOT DISTINCT (program_id, day, tier_id, partner_id, channel, currency)
      )`);
    await q.query(`
      CREATE TABLE member_days_by (
        program_id uuid NOT NULL,
        day date NOT NULL,
        tier_id uuid,
        partner_id uuid,
        enrolled integer NOT NULL DEFAULT 0,
        referred integer NOT NULL DEFAULT 0,
        qualified integer NOT NULL DEFAULT 0,
        CONSTRAINT member_days_by_key UNIQUE NULLS NOT DISTINCT (program_id, day, tier_id, partner_id)
      )`);
    await q.query(BACKFILL_POINT_DIMENSIONS);
    await q.query(SET_MEMBER_DIMENSIONS('true'));
    await q.query(POINT_DAYS_BY_FROM_FACTS('true'));
    await q.query(PURCHASE_DAYS_BY_FROM_FACTS('true'));
    await q.query(MEMBER_DAYS_BY_FROM_FACTS('true'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE member_days_by`);
    await q.query(`DROP TABLE purchase_days_by`);
    await q.query(`DROP TABLE point_days_by`);
    await q.query(`DROP INDEX point_facts_purchase_moves`);
    await q.query(`ALTER TABLE member_facts DROP COLUMN kpi_tier_id, DROP COLUMN kpi_partner_id, DROP COLUMN kpi_at`);
    await q.query(`ALTER TABLE point_facts DROP COLUMN kpi_tier_id, DROP COLUMN kpi_partner_id, DROP COLUMN kpi_channel, DROP COLUMN kpi_at`);
  }
}
