import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entitiesById, openDatabase, rowsById } from '@loyalty-graph/shared/db';
import { createTestDatabase, StatementCounter, type TestDatabase } from '@loyalty-graph/testing';
import { Column, Entity, PrimaryColumn, type DataSource } from 'typeorm';

/** The shared loaders against real PostgreSQL: what a `_entities` batch of ids turns into. */

@Entity({ name: 'things' })
class ThingEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text' })
  name: string;
}

let database: TestDatabase;
let db: DataSource;
const statements = new StatementCounter();
const ids = Array.from({ length: 5 }, () => randomUUID());

beforeAll(async () => {
  database = await createTestDatabase('loaders');
  db = await openDatabase({ url: database.url, entities: [ThingEntity], migrations: [], applicationName: 'loaders-test', poolSize: 2, logger: statements });
  await db.query(`CREATE TABLE things (id uuid PRIMARY KEY, name text NOT NULL)`);
  await db.query(`INSERT INTO things (id, name) SELECT id, 'thing ' || n FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`, [ids]);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const loaders = {
  'rowsById (typed SQL)': () => rowsById<{ id: string; name: string }>(db, `SELECT id, name FROM things WHERE id = ANY($1::uuid[])`),
  'entitiesById (a repository)': () => entitiesById(db.getRepository(ThingEntity)),
};

describe.each(Object.entries(loaders))('%s', (_name, create) => {
  it('answers a batch in the order asked with one statement; unknown and malformed ids are null', async () => {
    const loader = create();
    const unknown = randomUUID();
    const asked = [ids[3]!, unknown, ids[0]!, 'not-a-uuid', ids[4]!];
    statements.reset();
    const rows = await loader.loadMany(asked);
    expect(rows.map((row) => (row && !(row instanceof Error) ? row.name : row))).toEqual(['thing 4', null, 'thing 1', null, 'thing 5']);
    expect(statements.dataStatements()).toHaveLength(1);
  });

  it('sends nothing to PostgreSQL for a batch of malformed ids only', async () => {
    statements.reset();
    expect(await create().loadMany(['abc', '42'])).toEqual([null, null]);
    expect(statements.dataStatements()).toEqual([]);
  });
});
