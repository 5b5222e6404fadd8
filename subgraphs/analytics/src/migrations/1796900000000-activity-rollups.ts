import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Activity (active, churned, retention, frequency) from day rollups (services/activity-rollups.ts):
 * per program and window, +1/−1 on the days members' covered spans start and end. Which windows
 * a program has built is listed, so a query never reads a window half built: a window is built
 * (from the facts, set-based) by the consumer the first time a program needs it. Nothing is
 * backfilled here: the first event of each program after deploying builds its windows.
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE activity_windows`);
    await q.query(`DROP TABLE activity_days`);
  }
}
