import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A reward's fulfilment cost per unit (what the program pays for one), set by its admins and
 * carried on RewardRedeemed so analytics can total the program's fulfilment cost. Optional: both
 * columns null, or both set.
 */
export class RewardUnitCost1796310000000 implements MigrationInterface {
  name = 'RewardUnitCost1796310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rewards ADD COLUMN unit_cost_amount numeric(20, 4), ADD COLUMN unit_cost_currency char(3)`);
    await q.query(
      `ALTER TABLE rewards ADD CONSTRAINT rewards_unit_cost_check CHECK ((unit_cost_amount IS NULL) = (unit_cost_currency IS NULL) AND (unit_cost_amount IS NULL OR unit_cost_amount >= 0))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_unit_cost_check, DROP COLUMN unit_cost_amount, DROP COLUMN unit_cost_currency`);
  }
}
