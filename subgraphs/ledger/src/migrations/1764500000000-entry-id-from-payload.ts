import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every ledger event names its journal entry in its payload (`entryId`, the contract says so). The
 * outbox's entry_id column, which the audit joins on, is now derived from it by PostgreSQL, so the
 * ledger writes events through the same typed `emit` as every producer and cannot disagree with itself.
 */
export class EntryIdFromPayload1764500000000 implements MigrationInterface {
  name = 'EntryIdFromPayload1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN entry_id, ADD COLUMN entry_id uuid GENERATED ALWAYS AS ((payload->>'entryId')::uuid) STORED REFERENCES journal_entries(id)`);
    await q.query(`CREATE INDEX outbox_entry ON outbox (entry_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN entry_id, ADD COLUMN entry_id uuid REFERENCES journal_entries(id)`);
    await q.query(`UPDATE outbox SET entry_id = (payload->>'entryId')::uuid`);
    await q.query(`CREATE INDEX outbox_entry ON outbox (entry_id)`);
  }
}
