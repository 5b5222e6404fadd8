import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Money: the pending part of each movement (so outstanding points split into posted and pending as
 * of any instant), the catalog's redemptions and cancellations with their fulfilment cost, and the
 * partners' closed settlement statements. Natural keys from the events, so a redelivery or a
 * rebuild writes each row once.
 */
export class MoneyFacts1796300000000 implements MigrationInterface {
  name = 'MoneyFacts1796300000000';

  async up(q: QueryRunner): Promise<void> {
    // pending_delta: what the fact did to the member's pending points (+ a pending accrual, − its
    // posting or a return from pending). POSTED facts (PointsPosted) move points from pending to
    // posted: member_delta 0. Rows written before this column have no return split: an accrual's is
    // known (below), a return's needs a rebuild of point_facts (README, Owns).
    await q.query(`ALTER TABLE point_facts ADD COLUMN pending_delta bigint NOT NULL DEFAULT 0`);
    await q.query(`UPDATE point_facts SET pending_delta = points WHERE kind = 'ACCRUED' AND pending`);
    await q.query(`ALTER TABLE point_facts DROP CONSTRAINT point_facts_kind_check`);
    await q.query(
      `ALTER TABLE point_facts ADD CONSTRAINT point_facts_kind_check CHECK (kind IN ('ACCRUED','RETURNED','BONUS','REDEEMED','REFUNDED','EXPIRED','REINSTATED','ADJUSTED','DONATED','TRANSFERRED','POSTED'))`,
    );
    // One row per order line redeemed (RewardRedeemed) or cancelled/returned (RewardOrderCancelled,
    // one row per line it names). unit_cost is the reward's fulfilment cost per unit when the line
    // was redeemed (null: the catalog had none); a cancellation takes its line's from the REDEEMED row.
    await q.query(`
      CREATE TABLE reward_facts (
        event_id uuid NOT NULL,
        line_id uuid NOT NULL,
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        order_id uuid NOT NULL,
        reward_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('REDEEMED', 'CANCELLED', 'RETURNED')),
        reward_type text,
        quantity integer NOT NULL,
        points bigint,
        unit_cost numeric(20, 4),
        cost_currency char(3),
        partner_id uuid,
        occurred_at timestamptz NOT NULL,
        day date NOT NULL,
        PRIMARY KEY (event_id, line_id)
      )`);
    await q.query(`CREATE INDEX reward_facts_program ON reward_facts (program_id, occurred_at)`);
    await q.query(`CREATE INDEX reward_facts_line ON reward_facts (line_id)`);
    // One row per closed statement; net_amount > 0: the partner owes the program.
    await q.query(`
      CREATE TABLE partner_settlement_facts (
        event_id uuid PRIMARY KEY,
        statement_id uuid NOT NULL UNIQUE,
        program_id uuid NOT NULL,
        partner_id uuid NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        currency char(3) NOT NULL,
        net_amount numeric(20, 4) NOT NULL,
        closed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX partner_settlement_facts_program ON partner_settlement_facts (program_id, closed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE partner_settlement_facts`);
    await q.query(`DROP TABLE reward_facts`);
    await q.query(`DELETE FROM point_facts WHERE kind = 'POSTED'`);
    await q.query(`ALTER TABLE point_facts DROP CONSTRAINT point_facts_kind_check`);
    await q.query(
      `ALTER TABLE point_facts ADD CONSTRAINT point_facts_kind_check CHECK (kind IN ('ACCRUED','RETURNED','BONUS','REDEEMED','REFUNDED','EXPIRED','REINSTATED','ADJUSTED','DONATED','TRANSFERRED'))`,
    );
    await q.query(`ALTER TABLE point_facts DROP COLUMN pending_delta`);
  }
}
