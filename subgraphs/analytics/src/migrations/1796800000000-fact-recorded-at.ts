import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When analytics wrote each point fact (its own clock), beside when the movement happened
 * (`occurred_at`): the ingestion lag per event is `recorded_at` minus the producer's write, which
 * `pnpm bench analytics` measures without polling, and an operator can read it after an incident.
 * Rows written before this column are NULL: adding a volatile default would rewrite a table of
 * millions of rows, so the default is set in a second, metadata-only step.
 */
export class FactRecordedAt1796800000000 implements MigrationInterface {
  name = 'FactRecordedAt1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE point_facts ADD COLUMN recorded_at timestamptz`);
    // clock_timestamp(), not now(): a consumer's transaction applies up to 50 events, and now()
    // would date them all at its start, hiding the time spent inside the batch.
    await q.query(`ALTER TABLE point_facts ALTER COLUMN recorded_at SET DEFAULT clock_timestamp()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE point_facts DROP COLUMN recorded_at`);
  }
}
