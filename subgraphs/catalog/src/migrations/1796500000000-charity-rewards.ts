import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CHARITY rewards donate through the ledger's donations (the charity's account and its monthly
 * limits), not through a hold and capture: the reward names the charity, the order records the
 * donation's journal entry.
 */
export class CharityRewards1796500000000 implements MigrationInterface {
  name = 'CharityRewards1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rewards ADD COLUMN charity_id uuid`);
    await q.query(`ALTER TABLE rewards ADD CONSTRAINT rewards_charity CHECK (charity_id IS NULL OR type = 'CHARITY')`);
    await q.query(`ALTER TABLE reward_orders ADD COLUMN donation_charity_id uuid, ADD COLUMN donation_entry_id uuid`);
    await q.query(`ALTER TABLE reward_orders DROP CONSTRAINT reward_orders_done_has_hold`);
    await q.query(
      `ALTER TABLE reward_orders ADD CONSTRAINT reward_orders_done_took_points CHECK (saga_step <> 'DONE' OR points = 0 OR hold_id IS NOT NULL OR donation_entry_id IS NOT NULL)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reward_orders DROP CONSTRAINT reward_orders_done_took_points`);
    await q.query(`ALTER TABLE reward_orders ADD CONSTRAINT reward_orders_done_has_hold CHECK (saga_step <> 'DONE' OR points = 0 OR hold_id IS NOT NULL)`);
    await q.query(`ALTER TABLE reward_orders DROP COLUMN donation_charity_id, DROP COLUMN donation_entry_id`);
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_charity, DROP COLUMN charity_id`);
  }
}
