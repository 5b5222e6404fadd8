import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partners' webhook endpoints, the messages made for them from events, and every delivery attempt.
 * Messages are written in the consumer's transaction (exactly once per event and endpoint, by the
 * unique key) and delivered by the webhook-delivery job (docs in the README's Jobs).
 */
export class Webhooks1796810000000 implements MigrationInterface {
  name = 'Webhooks1796810000000';

  async up(q: QueryRunner): Promise<void> {
    // Secrets are AES-256-GCM ciphertexts (PARTNERS_WEBHOOK_KEY): the deliverer must sign with
    // them, so unlike API keys they cannot be stored as a hash.
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        partner_id uuid NOT NULL REFERENCES partners (id),
        url text NOT NULL,
        description text,
        event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
        enabled boolean NOT NULL,
        disabled_at timestamptz,
        disabled_reason text,
        failing_since timestamptz,
        secret bytea NOT NULL,
        previous_secret bytea,
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_partner ON webhook_endpoints (partner_id, created_at)`);

    // webhook_id is the msg_… id receivers see; id is the graph's (every id in the graph is a UUID).
    // seq orders a member's messages to one endpoint (the order their events were consumed in).
    await q.query(`
      CREATE TABLE webhook_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id text NOT NULL UNIQUE CHECK (webhook_id ~ '^msg_[0-9a-f]{32}$'),
        seq bigserial NOT NULL UNIQUE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        ordering_key text,
        body text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        tries int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        leased_until timestamptz,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL,
        UNIQUE (endpoint_id, event_id)
      )`);
    // The deliverer's scan: pending messages by due time.
    await q.query(`CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at, seq) WHERE status = 'PENDING'`);
    // "Is an earlier message of this member to this endpoint still pending?"
    await q.query(`CREATE INDEX webhook_messages_queue ON webhook_messages (endpoint_id, ordering_key, seq) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, created_at DESC, id)`);

    await q.query(`
      CREATE TABLE webhook_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id uuid NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        status_code int,
        duration_ms int NOT NULL,
        error text,
        response_snippet text,
        succeeded boolean NOT NULL
      )`);
    await q.query(`CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, attempted_at DESC, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_messages`);
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
