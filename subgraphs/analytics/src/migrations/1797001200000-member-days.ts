import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Daily rollup of the member facts the KPIs count (UTC days): enrolments, enrolments carrying a
 * referral, and qualified referrals. Unfiltered calendar buckets sum these days instead of every
 * ENROLLED fact (a million over three years took most of Program.kpis' time); the consumer adds
 * to them when a fact row is new (services/kpi-rollups.ts), and the facts already there are
 * summed here once.
 */
export class MemberDays1797001200000 implements MigrationInterface {
  name = 'MemberDays1797001200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member_days (
        program_id uuid NOT NULL,
        day date NOT NULL,
        enrolled integer NOT NULL DEFAULT 0,
        referred integer NOT NULL DEFAULT 0,
        qualified integer NOT NULL DEFAULT 0,
        PRIMARY KEY (program_id, day)
      )`);
    await q.query(`
      INSERT INTO member_days (program_id, day, enrolled, referred, qualified)
      SELECT program_id, day, count(*) FILTER (WHERE kind = 'ENROLLED'), count(*) FILTER (WHERE kind = 'ENROLLED' AND referral_id IS NOT NULL),
             count(*) FILTER (WHERE kind = 'REFERRAL_QUALIFIED')
        FROM member_facts WHERE kind IN ('ENROLLED', 'REFERRAL_QUALIFIED') GROUP BY program_id, day`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE member_days`);
  }
}
