import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_ACTIVE_WINDOW_DAYS } from '../domain/kpi-definitions';
import { buildLongBuckets } from '../services/activity-builds';

/**
 * Retention of calendar buckets longer than their activity window (a QUARTER or a YEAR under 90
 * days, a MONTH under 7) from a rollup instead of a scan of purchases: per program, settings
 * window and bucket, the members covered at both its start and its end
 * (domain/activity-long-buckets.ts). `activity_retained_windows` lists the windows whose buckets
 * are built, so a query never reads them half built; the consumer builds a window's buckets the
 * first time the program's settings need them (services/activity-rollups.ts). Programs whose
 * windows are already built get their buckets here, from the facts.
 */
export class ActivityRetained1797020000000 implements MigrationInterface {
  name = 'ActivityRetained1797020000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE activity_retained (
        program_id uuid NOT NULL,
        window_days integer NOT NULL,
        from_day date NOT NULL,
        to_day date NOT NULL,
        retained integer NOT NULL,
        PRIMARY KEY (program_id, window_days, from_day, to_day)
      )`);
    await q.query(`
      CREATE TABLE activity_retained_windows (
        program_id uuid NOT NULL,
        window_days integer NOT NULL,
        built_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, window_days)
      )`);
    // A settings window whose day rows are built: the program's facts are in, build its buckets too.
    // The others are built by the consumer with their day rows.
    const built = (await q.query(
      `SELECT w.program_id, array_agg(w.window_days ORDER BY w.window_days) AS windows FROM activity_windows w
        WHERE w.window_days = $1 OR w.window_days IN (SELECT s.active_window_days FROM analytics_settings s WHERE s.program_id = w.program_id)
        GROUP BY w.program_id`,
      [DEFAULT_ACTIVE_WINDOW_DAYS],
    )) as { program_id: string; windows: number[] }[];
    for (const { program_id: programId, windows } of built) {
      await buildLongBuckets((sql, params) => q.query(sql, params), programId, windows);
      await q.query(`INSERT INTO activity_retained_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now()`, [programId, windows]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE activity_retained_windows`);
    await q.query(`DROP TABLE activity_retained`);
  }
}
