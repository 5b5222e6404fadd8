import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Complaints about reward orders, their append-only history, and each program's complaint
 * settings. A complaint's deadline is a stored instant (`due_at`) that moves forward by the time
 * spent waiting for the member (`paused_at` is set while it waits), so the overdue queue is one
 * indexed comparison, not arithmetic over the history.
 */
export class Complaints1796400000000 implements MigrationInterface {
  name = 'Complaints1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catalog_settings (
        program_id uuid PRIMARY KEY,
        complaint_deadline_days int NOT NULL DEFAULT 14 CHECK (complaint_deadline_days BETWEEN 1 AND 365),
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE complaints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        program_id uuid NOT NULL,
        order_id uuid NOT NULL REFERENCES reward_orders (id),
        line_id uuid REFERENCES reward_order_lines (id),
        member_id uuid NOT NULL,
        reason text NOT NULL CHECK (reason IN ('MISSING', 'DAMAGED', 'WRONG_ITEM', 'LATE', 'OTHER')),
        description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
        status text NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'WAITING_FOR_MEMBER', 'RESOLVED', 'REJECTED')),
        resolution text CHECK (resolution IN ('REPLACEMENT', 'POINTS_REFUND', 'REJECTION')),
        -- What the member reads: the agent's note on a resolution, the reason of a rejection.
        resolution_note text,
        points_refunded int NOT NULL DEFAULT 0 CHECK (points_refunded >= 0),
        replacement_order_id uuid REFERENCES reward_orders (id),
        due_at timestamptz NOT NULL,
        -- Set while WAITING_FOR_MEMBER: the deadline's clock is stopped since then.
        paused_at timestamptz,
        -- A resolution claimed under the row lock (its effect, a replacement order or a refund,
        -- runs outside the lock with keys derived from the complaint): the request that claimed
        -- it, or recovery, finishes it; anyone else is told it is closed. Kept once RESOLVED, so
        -- the same key replays and another key is refused.
        resolving_key text,
        resolving_hash text,
        resolving_remedy text CHECK (resolving_remedy IN ('REPLACEMENT', 'POINTS_REFUND')),
        resolving_points int CHECK (resolving_points > 0),
        resolving_note text,
        resolving_by text,
        resolving_since timestamptz,
        opened_by text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        resolved_at timestamptz,
        CONSTRAINT complaints_key UNIQUE (program_id, idempotency_key),
        CONSTRAINT complaints_final_has_resolution CHECK ((status IN ('RESOLVED', 'REJECTED')) = (resolution IS NOT NULL)),
        CONSTRAINT complaints_rejection CHECK ((status = 'REJECTED') = (resolution IS NOT DISTINCT FROM 'REJECTION')),
        CONSTRAINT complaints_paused_while_waiting CHECK ((status = 'WAITING_FOR_MEMBER') = (paused_at IS NOT NULL)),
        CONSTRAINT complaints_claim_whole CHECK ((resolving_key IS NULL) = (resolving_remedy IS NULL))
      )`);
    await q.query(`CREATE INDEX complaints_order ON complaints (order_id, seq)`);
    await q.query(`CREATE INDEX complaints_member ON complaints (member_id, seq DESC)`);
    // The agents' queue: open complaints of a program, the one due first on top.
    await q.query(`CREATE INDEX complaints_queue ON complaints (program_id, due_at, id) WHERE status NOT IN ('RESOLVED', 'REJECTED')`);
    await q.query(`CREATE INDEX complaints_resolving ON complaints (resolving_since) WHERE resolving_key IS NOT NULL AND status NOT IN ('RESOLVED', 'REJECTED')`);
    await q.query(`
      CREATE TABLE complaint_changes (
        complaint_id uuid NOT NULL REFERENCES complaints (id),
        seq int NOT NULL,
        from_status text,
        to_status text NOT NULL,
        changed_by text NOT NULL,
        note text,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (complaint_id, seq)
      )`);
    await q.query(`CREATE FUNCTION complaint_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'complaint_changes is append-only'; END $$`);
    await q.query(`CREATE TRIGGER complaint_changes_append_only BEFORE UPDATE OR DELETE ON complaint_changes FOR EACH ROW EXECUTE FUNCTION complaint_changes_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE complaint_changes`);
    await q.query(`DROP FUNCTION complaint_changes_append_only`);
    await q.query(`DROP TABLE complaints`);
    await q.query(`DROP TABLE catalog_settings`);
  }
}
