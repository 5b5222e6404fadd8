import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@loyalty-graph/shared/db';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

/** Writes down the statement timeout it ran under. */
class RecordsTimeout1700000000001 implements MigrationInterface {
  name = 'RecordsTimeout1700000000001';
  async up(q: QueryRunner): Promise<void> {
    const [row] = (await q.query(`SHOW statement_timeout`)) as { statement_timeout: string }[];
    await q.query(`CREATE TABLE migration_timeouts (timeout text NOT NULL)`);
    await q.query(`INSERT INTO migration_timeouts VALUES ($1)`, [row!.statement_timeout]);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE migration_timeouts`);
  }
}

let database: TestDatabase;
let db: DataSource | undefined;
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

describe('openDatabase', () => {
  it('runs migrations without the statement timeout (a backfill may take minutes), and everything else with 30 s', async () => {
    database = await createTestDatabase('migrations');
    db = await openDatabase({ url: database.url, entities: [], migrations: [RecordsTimeout1700000000001], applicationName: 'migrations-test' });
    expect(await db.query(`SELECT timeout FROM migration_timeouts`)).toEqual([{ timeout: '0' }]);
    expect(await db.query(`SHOW statement_timeout`)).toEqual([{ statement_timeout: '30s' }]);
    // Applied once: opening again runs nothing.
    await db.destroy();
    db = await openDatabase({ url: database.url, entities: [], migrations: [RecordsTimeout1700000000001], applicationName: 'migrations-test' });
    expect(await db.query(`SELECT count(*)::int AS n FROM migration_timeouts`)).toEqual([{ n: 1 }]);
  });
});
