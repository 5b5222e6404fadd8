import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Experiment assignments as the ledger learned them from analytics' ExperimentVariantAssigned (the
 * ledger never reads analytics' tables): per member and experiment, the earn multiplier and the
 * window it applies in. Keyed by (experiment, member), so a redelivered event changes nothing.
 */
export class ExperimentTreatments1796510000000 implements MigrationInterface {
  name = 'ExperimentTreatments1796510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE experiment_treatments (
        experiment_id uuid NOT NULL,
        member_id uuid NOT NULL,
        program_id uuid NOT NULL,
        variant_key text NOT NULL,
        -- in the program's holdout: never treated, whatever the variant
        holdout boolean NOT NULL,
        -- null: the variant does not change earning (control, or offers only)
        earn_multiplier numeric(12, 4) CHECK (earn_multiplier > 0),
        starts_at timestamptz NOT NULL,
        -- exclusive; null: open
        ends_at timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (experiment_id, member_id)
      )`);
    // The accrual path's lookup: a member's multipliers in force at the purchase's time.
    await q.query(`CREATE INDEX experiment_treatments_member ON experiment_treatments (member_id) WHERE earn_multiplier IS NOT NULL AND NOT holdout`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE experiment_treatments`);
  }
}
