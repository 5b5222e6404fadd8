import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { IdempotencyKeys1764600000000, openDatabase } from '@loyalty-graph/shared/db';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource } from 'typeorm';

/**
 * The ledger keeps the idempotency_keys table its core migration made, and does not list the
 * shared migration a new subgraph lists. The shared `idempotent` runs on both, so both tables
 * must stay the same.
 */
const opened: { database: TestDatabase; db: DataSource }[] = [];

async function migrated(prefix: string, migrations: typeof ledgerSubgraph.database.migrations): Promise<DataSource> {
  const database = await createTestDatabase(prefix);
  const db = await openDatabase({ url: database.url, entities: [], migrations, applicationName: `${prefix}-test`, poolSize: 2 });
  opened.push({ database, db });
  return db;
}

/** Columns (name, type, nullability, default) and the primary key of idempotency_keys. */
async function shape(db: DataSource) {
  const columns = await db.query(
    `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_name = 'idempotency_keys' ORDER BY ordinal_position`,
  );
  const [primaryKey] = (await db.query(
    `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'idempotency_keys'::regclass AND contype = 'p'`,
  )) as { definition: string }[];
  return { columns, primaryKey: primaryKey?.definition };
}

let ledger: DataSource;
let fresh: DataSource;

beforeAll(async () => {
  ledger = await migrated('ledger_keys', ledgerSubgraph.database.migrations);
  fresh = await migrated('shared_keys', [IdempotencyKeys1764600000000]);
});
afterAll(async () => {
  for (const { database, db } of opened) {
    await db.destroy();
    await database.drop();
  }
});

describe('idempotency_keys', () => {
  it('is the same in the ledger as the shared migration makes it for a new subgraph', async () => {
    const expected = await shape(fresh);
    expect(expected.primaryKey).toBe('PRIMARY KEY (program_id, key)');
    expect(await shape(ledger)).toEqual(expected);
  });
});
