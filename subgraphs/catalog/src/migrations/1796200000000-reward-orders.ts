import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reward orders, their lines, the stock they reserve and every change of state. The saga columns
 * (saga_step, hold_id, lease_until) are what recovery reads after a crash: everything the saga
 * knows is here, nothing lives only in a process.
 */
export class RewardOrders1796200000000 implements MigrationInterface {
  name = 'RewardOrders1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reward_orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('PLACED', 'CONFIRMED', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'RETURNED')),
        -- RESERVED: stock reserved; HELD: points held; PAYING: waiting for the cash part;
        -- DONE: points taken and stock sold; UNDONE: hold and reservation given back.
        saga_step text NOT NULL CHECK (saga_step IN ('RESERVED', 'HELD', 'PAYING', 'DONE', 'UNDONE')),
        hold_id uuid,
        points int NOT NULL CHECK (points >= 0),
        points_refunded int NOT NULL DEFAULT 0 CHECK (points_refunded >= 0 AND points_refunded <= points),
        cash_amount numeric(18, 4),
        cash_currency text,
        cash_refunded numeric(18, 4) NOT NULL DEFAULT 0 CHECK (cash_refunded >= 0),
        payment_reference text,
        payment_confirmed_at timestamptz,
        -- Until then the reservation (and the hold) stand; afterwards recovery undoes an unfinished order.
        reservation_expires_at timestamptz NOT NULL,
        -- Whoever drives the saga (the request, or recovery) holds it until then; recovery takes
        -- only orders whose lease has run out, so two drivers never work one order at once.
        lease_until timestamptz NOT NULL,
        failure_code text,
        failure_message text,
        -- Where physical rewards go, as the member gave it when ordering (a snapshot: a later
        -- change of their profile does not move a parcel already on its way).
        shipping_address jsonb,
        -- A replacement sent for a complaint: ordered at no points.
        replaces_complaint_id uuid,
        placed_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT reward_orders_key UNIQUE (program_id, idempotency_key),
        CONSTRAINT reward_orders_cash_whole CHECK ((cash_amount IS NULL) = (cash_currency IS NULL)),
        CONSTRAINT reward_orders_cash_refund CHECK (cash_refunded <= coalesce(cash_amount, 0)),
        CONSTRAINT reward_orders_done_is_paid CHECK (saga_step <> 'DONE' OR cash_amount IS NULL OR payment_confirmed_at IS NOT NULL),
        CONSTRAINT reward_orders_done_has_hold CHECK (saga_step <> 'DONE' OR points = 0 OR hold_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX reward_orders_member ON reward_orders (member_id, seq DESC)`);
    await q.query(`CREATE INDEX reward_orders_program ON reward_orders (program_id, status, seq)`);
    // Recovery's work list: unfinished sagas only, so the index stays small.
    await q.query(`CREATE INDEX reward_orders_unfinished ON reward_orders (lease_until) WHERE saga_step IN ('RESERVED', 'HELD', 'PAYING')`);
    await q.query(`
      CREATE TABLE reward_order_lines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES reward_orders (id),
        line_no int NOT NULL CHECK (line_no > 0),
        reward_id uuid NOT NULL REFERENCES rewards (id),
        reward_version int NOT NULL,
        reward_type text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        points_each int NOT NULL CHECK (points_each >= 0),
        cash_each numeric(18, 4),
        cancelled int NOT NULL DEFAULT 0 CHECK (cancelled >= 0),
        returned int NOT NULL DEFAULT 0 CHECK (returned >= 0),
        booking_reference text,
        UNIQUE (order_id, line_no),
        CONSTRAINT reward_order_lines_units CHECK (cancelled + returned <= quantity)
      )`);
    await q.query(`CREATE INDEX reward_order_lines_reward ON reward_order_lines (reward_id, order_id)`);
    // One row per reward an order reserves: demand for the same reward is added up across lines.
    await q.query(`
      CREATE TABLE stock_reservations (
        order_id uuid NOT NULL REFERENCES reward_orders (id),
        reward_id uuid NOT NULL REFERENCES rewards (id),
        units int NOT NULL CHECK (units > 0),
        status text NOT NULL CHECK (status IN ('OPEN', 'SOLD', 'RELEASED')),
        PRIMARY KEY (order_id, reward_id)
      )`);
    // A refund (cancellation, return, complaint) is its own small saga: the row commits with the
    // units it gives back, then the ledger is asked (key: refund:<id>) and the row marked DONE.
    // Recovery re-asks for PENDING rows, so a crash in between never loses the points.
    await q.query(`
      CREATE TABLE reward_order_refunds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES reward_orders (id),
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('CANCELLATION', 'RETURN', 'COMPLAINT')),
        lines jsonb NOT NULL,
        points int NOT NULL CHECK (points >= 0),
        cash_amount numeric(18, 4),
        reason text,
        status text NOT NULL CHECK (status IN ('PENDING', 'DONE')),
        requested_by text NOT NULL,
        created_at timestamptz NOT NULL,
        done_at timestamptz,
        UNIQUE (order_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX reward_order_refunds_pending ON reward_order_refunds (created_at) WHERE status = 'PENDING'`);
    await q.query(`
      CREATE TABLE shipments (
        order_id uuid PRIMARY KEY REFERENCES reward_orders (id),
        carrier text NOT NULL,
        tracking_number text NOT NULL,
        tracking_url text,
        shipped_at timestamptz NOT NULL,
        shipped_by text NOT NULL,
        delivered_at timestamptz
      )`);
    // Append-only: who moved the order, when and why (the member follows it).
    await q.query(`
      CREATE TABLE reward_order_changes (
        order_id uuid NOT NULL REFERENCES reward_orders (id),
        seq int NOT NULL,
        from_status text,
        to_status text NOT NULL,
        changed_by text NOT NULL,
        reason text,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (order_id, seq)
      )`);
    await q.query(`CREATE FUNCTION reward_order_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'reward_order_changes is append-only'; END $$`);
    await q.query(`CREATE TRIGGER reward_order_changes_append_only BEFORE UPDATE OR DELETE ON reward_order_changes FOR EACH ROW EXECUTE FUNCTION reward_order_changes_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reward_order_changes`);
    await q.query(`DROP FUNCTION reward_order_changes_append_only`);
    await q.query(`DROP TABLE shipments`);
    await q.query(`DROP TABLE reward_order_refunds`);
    await q.query(`DROP TABLE stock_reservations`);
    await q.query(`DROP TABLE reward_order_lines`);
    await q.query(`DROP TABLE reward_orders`);
  }
}
