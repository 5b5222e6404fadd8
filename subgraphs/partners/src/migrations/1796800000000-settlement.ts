import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Settlement: the facts learnt from the ledger's and the catalog's events (items), the closed
 * statements, payments, and reconciliation failures. PostgreSQL keeps the promises:
 * - one item per fact (`source_key`), whatever the delivery does;
 * - an item is never edited, only filed once into the statement that closes over it;
 * - a closed statement (its lines included, kept in the row) is never changed or deleted;
 * - a statement is paid once, and a payment is counted in one later statement, once.
 */
export class Settlement1796800000000 implements MigrationInterface {
  name = 'Settlement1796800000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to partners: an event may name a partner this database does not know (staff
    // may fund a purchase by any partner id); its items wait, visible, and are never settled.
    await q.query(`
      CREATE TABLE settlement_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        partner_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ISSUED', 'RETURNED', 'REDEEMED', 'REDEMPTION_REVERSED')),
        -- The fact's natural key: entry:<ledger entry>, line:<order line>, reversal:<event>:<order line>.
        source_key text NOT NULL UNIQUE,
        points int NOT NULL,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        event_id uuid NOT NULL,
        ledger_entry_id uuid,
        hold_id uuid,
        purchase_id uuid,
        order_id uuid,
        order_line_id uuid,
        -- Filed once, when the statement covering it closes.
        statement_id uuid,
        adjustment boolean,
        original_period_start timestamptz,
        agreement_version int,
        price_per_point numeric(18, 8),
        amount numeric(28, 8),
        CONSTRAINT settlement_items_sign CHECK ((kind IN ('ISSUED', 'REDEEMED') AND points > 0) OR (kind IN ('RETURNED', 'REDEMPTION_REVERSED') AND points < 0)),
        CONSTRAINT settlement_items_filed CHECK ((statement_id IS NULL) = (adjustment IS NULL) AND (statement_id IS NULL) = (amount IS NULL))
      )`);
    await q.query(`CREATE INDEX settlement_items_open ON settlement_items (partner_id, occurred_at) WHERE statement_id IS NULL`);
    await q.query(`CREATE INDEX settlement_items_statement ON settlement_items (statement_id, occurred_at, id) WHERE statement_id IS NOT NULL`);
    await q.query(`CREATE INDEX settlement_items_hold ON settlement_items (hold_id) WHERE hold_id IS NOT NULL`);
    await q.query(`
      CREATE FUNCTION settlement_items_file_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.statement_id IS NOT NULL
           OR (NEW.program_id, NEW.partner_id, NEW.kind, NEW.source_key, NEW.points, NEW.occurred_at, NEW.received_at, NEW.event_id, NEW.ledger_entry_id, NEW.hold_id, NEW.purchase_id, NEW.order_id, NEW.order_line_id)
              IS DISTINCT FROM
              (OLD.program_id, OLD.partner_id, OLD.kind, OLD.source_key, OLD.points, OLD.occurred_at, OLD.received_at, OLD.event_id, OLD.ledger_entry_id, OLD.hold_id, OLD.purchase_id, OLD.order_id, OLD.order_line_id) THEN
          RAISE EXCEPTION 'settlement items are never changed: a late fact is a new item, settled as an adjustment'
            USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER settlement_items_file_once BEFORE UPDATE OR DELETE ON settlement_items FOR EACH ROW EXECUTE FUNCTION settlement_items_file_once()`);

    // Every confirmed order line with a hold, partner's or not: a hold is per order, and an order
    // may mix a partner's reward with others, so checking that a hold captured exactly its lines'
    // points needs them all. Reversals find their partner line here too.
    await q.query(`
      CREATE TABLE settlement_redeemed_lines (
        order_line_id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        -- Null on events written before RewardRedeemed carried it (and for orders without points).
        hold_id uuid,
        partner_id uuid,
        quantity int NOT NULL CHECK (quantity > 0),
        points int NOT NULL CHECK (points >= 0)
      )`);
    await q.query(`CREATE INDEX settlement_redeemed_lines_hold ON settlement_redeemed_lines (hold_id) WHERE hold_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE settlement_statements (
        id uuid PRIMARY KEY,
        program_id uuid NOT NULL,
        partner_id uuid NOT NULL REFERENCES partners (id),
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        opening_balance numeric(24, 4) NOT NULL,
        net_amount numeric(24, 4) NOT NULL,
        payments numeric(24, 4) NOT NULL,
        closing_balance numeric(24, 4) NOT NULL,
        net_issued_points bigint NOT NULL,
        lines jsonb NOT NULL,
        item_count int NOT NULL,
        closed_at timestamptz NOT NULL,
        UNIQUE (partner_id, period_start),
        UNIQUE (partner_id, period_end),
        CHECK (period_end > period_start),
        CONSTRAINT settlement_statements_balance CHECK (closing_balance = opening_balance + net_amount - payments)
      )`);
    await q.query(`
      CREATE FUNCTION settlement_statements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'closed settlement statements are never changed: late items are adjustments in the next one'
          USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER settlement_statements_immutable BEFORE UPDATE OR DELETE ON settlement_statements FOR EACH ROW EXECUTE FUNCTION settlement_statements_immutable()`);

    await q.query(`
      CREATE TABLE settlement_payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        partner_id uuid NOT NULL,
        statement_id uuid NOT NULL UNIQUE REFERENCES settlement_statements (id),
        amount numeric(24, 4) NOT NULL,
        points bigint NOT NULL,
        reference text,
        recorded_by text NOT NULL,
        paid_at timestamptz NOT NULL,
        counted_in_statement_id uuid REFERENCES settlement_statements (id)
      )`);
    await q.query(`
      CREATE FUNCTION settlement_payments_count_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR OLD.counted_in_statement_id IS NOT NULL
           OR (NEW.statement_id, NEW.amount, NEW.points, NEW.paid_at) IS DISTINCT FROM (OLD.statement_id, OLD.amount, OLD.points, OLD.paid_at) THEN
          RAISE EXCEPTION 'settlement payments are never changed' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER settlement_payments_count_once BEFORE UPDATE OR DELETE ON settlement_payments FOR EACH ROW EXECUTE FUNCTION settlement_payments_count_once()`);

    // The latest failed close of a period (by the id its statement will have): what operators see.
    await q.query(`
      CREATE TABLE settlement_reconciliation_failures (
        statement_id uuid PRIMARY KEY,
        partner_id uuid NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        problems jsonb NOT NULL,
        attempts int NOT NULL,
        first_failed_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE settlement_reconciliation_failures`);
    await q.query(`DROP TABLE settlement_payments`);
    await q.query(`DROP FUNCTION settlement_payments_count_once()`);
    await q.query(`DROP TABLE settlement_statements`);
    await q.query(`DROP FUNCTION settlement_statements_immutable()`);
    await q.query(`DROP TABLE settlement_redeemed_lines`);
    await q.query(`DROP TABLE settlement_items`);
    await q.query(`DROP FUNCTION settlement_items_file_once()`);
  }
}
