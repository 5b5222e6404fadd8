import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Experiments and the program-wide holdout. Holdout membership is not stored: it is a hash of the
 * program's salt and the member, so it needs no rows and moves only at the margin when the share
 * changes. An assignment is stored once per (experiment, member): the primary key is what makes a
 * racing second assignment (start and the Facts consumer at once, two replicas) a no-op.
 */
export class Experiments1796500000000 implements MigrationInterface {
  name = 'Experiments1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE program_holdouts (
        program_id uuid PRIMARY KEY,
        -- random at the first configuration and never changed: members keep their hash for good
        salt text NOT NULL,
        -- percent of members held out, 0 to 20
        share numeric(4, 2) NOT NULL CHECK (share >= 0 AND share <= 20),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE experiments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        name text NOT NULL,
        hypothesis text NOT NULL,
        -- null: every member of the program is eligible
        segment_id uuid,
        -- [{key, weight, earnMultiplier, offerIds}], validated by domain/experiments.ts
        variants jsonb NOT NULL,
        primary_metric text NOT NULL CHECK (primary_metric IN ('SPEND', 'FREQUENCY', 'REDEMPTION')),
        status text NOT NULL CHECK (status IN ('DRAFT', 'RUNNING', 'STOPPED')),
        -- when the treatment starts (moved to the start time when started later than planned)
        starts_at timestamptz NOT NULL,
        planned_end_at timestamptz NOT NULL,
        started_at timestamptz,
        -- set when stopped: min(stop time, planned end)
        ends_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX experiments_program ON experiments (program_id, status)`);
    await q.query(`
      CREATE TABLE experiment_assignments (
        experiment_id uuid NOT NULL REFERENCES experiments (id),
        member_id uuid NOT NULL,
        program_id uuid NOT NULL,
        variant_key text NOT NULL,
        -- in the program's holdout when assigned: variant_key is 'control' and no treatment applies
        holdout boolean NOT NULL,
        assigned_at timestamptz NOT NULL,
        PRIMARY KEY (experiment_id, member_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE experiment_assignments`);
    await q.query(`DROP TABLE experiments`);
    await q.query(`DROP TABLE program_holdouts`);
  }
}
