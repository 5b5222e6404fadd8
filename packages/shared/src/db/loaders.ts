import DataLoader from 'dataloader';
import { In, type ObjectLiteral, type Repository } from 'typeorm';
import { isUuid } from '../ids';

/**
 * DataLoader batch functions, written once (graphql/dataloader's contract): values in key order,
 * as many as there are keys, null for a miss; one SQL statement per batch. Loaders themselves are
 * created per request, in each subgraph's `loaders.ts`, never at module level.
 */

/** Rows in any order → one value per key, in key order (null where no row has that key). */
export function inKeyOrder<Row>(keys: readonly string[], rows: readonly Row[], keyOf: (row: Row) => string): (Row | null)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/**
 * Rows by id from one typed-SQL statement that takes the batch's ids as `$1::uuid[]`. A malformed
 * id (in an `_entities` representation, say) is a miss: it never reaches PostgreSQL, where one
 * bad uuid would fail the whole batch.
 */
export function rowsById<Row extends { id: string }>(db: { query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string): DataLoader<string, Row | null> {
  return new DataLoader<string, Row | null>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows = valid.length ? ((await db.query(sql, [valid])) as Row[]) : [];
    return inKeyOrder(ids, rows, (row) => row.id);
  });
}

/** TypeORM entities by their `id` primary key, through the repository; malformed ids are misses, as above. */
export function entitiesById<Entity extends ObjectLiteral & { id: string }>(repo: Repository<Entity>): DataLoader<string, Entity | null> {
  return new DataLoader<string, Entity | null>(async (ids) => {
    const valid = ids.filter(isUuid);
    const rows = valid.length ? await repo.findBy({ id: In(valid) } as never) : [];
    return inKeyOrder(ids, rows, (row) => row.id);
  });
}

/** Every row of each key (a member's identifiers), in the order `load` returns them; an empty list for a key without rows. */
export function groupedBy<Row>(load: (keys: string[]) => Promise<Row[]>, keyOf: (row: Row) => string): DataLoader<string, Row[]> {
  return new DataLoader<string, Row[]>(async (keys) => {
    const rows = await load([...keys]);
    const groups = new Map<string, Row[]>(keys.map((key) => [key, []]));
    for (const row of rows) groups.get(keyOf(row))?.push(row);
    return keys.map((key) => groups.get(key)!);
  });
}
