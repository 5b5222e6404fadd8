import type { MigrationInterface, QueryRunner } from 'typeorm';
import { windowsFor } from '../domain/activity-coverage';
import { DEFAULT_ACTIVE_WINDOW_DAYS } from '../domain/kpi-definitions';
import { BUILD_SQL } from '../services/activity-builds';

/**
 * Activity (active, churned, retention, frequency) from day rollups (services/activity-rollups.ts):
 * per program and window, +1/−1 on the days members' covered spans start and end. Which windows
 * a program has built is listed, so a query never reads a window half built: a window is built
 * (from the facts, set-based) by the consumer the first time a program needs it (a new settings
 * version). Programs that already have facts are built here, so the consumer never has to build
 * a large history inside its transaction (and its statement timeout) after deploying.
 */
export class ActivityRollups1796900000000 implements MigrationInterface {
  name = 'ActivityRollups1796900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE activity_days (
        program_id uuid NOT NULL,
        window_days integer NOT NULL,
        day date NOT NULL,
        delta integer NOT NULL,
        PRIMARY KEY (program_id, window_days, day)
      )`);
    await q.query(`
      CREATE TABLE activity_windows (
        program_id uuid NOT NULL,
        window_days integer NOT NULL,
        built_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, window_days)
      )`);
    const programs = (await q.query(`SELECT DISTINCT program_id FROM point_facts WHERE kind = 'ACCRUED'`)) as { program_id: string }[];
    for (const { program_id: programId } of programs) {
      const settings = (await q.query(`SELECT DISTINCT active_window_days AS w FROM analytics_settings WHERE program_id = $1`, [programId])) as { w: number }[];
      const windows = [...new Set([DEFAULT_ACTIVE_WINDOW_DAYS, ...settings.map((r) => r.w)].flatMap(windowsFor))];
      await q.query(BUILD_SQL('program_id = $1'), [programId, windows]);
      await q.query(`INSERT INTO activity_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now()`, [programId, windows]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE activity_windows`);
    await q.query(`DROP TABLE activity_days`);
  }
}
