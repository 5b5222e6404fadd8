import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError, ManualClock } from '@loyalty-graph/shared';
import { IdempotencyKeys1764600000000, idempotent, openDatabase } from '@loyalty-graph/shared/db';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource } from 'typeorm';

/**
 * The idempotency wrapper as a new subgraph gets it: its database has only the shared
 * migration's table, and its effects are rows of its own.
 */
let database: TestDatabase;
let db: DataSource;
const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
const programId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase('idempotency');
  db = await openDatabase({ url: database.url, entities: [], migrations: [IdempotencyKeys1764600000000], applicationName: 'idempotency-test', poolSize: 4 });
  await db.query(`CREATE TABLE orders (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), reward text NOT NULL)`);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** Places an order: the effect, in the key's transaction. */
const placeOrder = (key: string, reward: string, refuse = false) =>
  idempotent(
    db,
    { programId, key, operation: 'placeRewardOrder', input: { reward } },
    async (tx) => {
      const [order] = (await tx.query(`INSERT INTO orders (reward) VALUES ($1) RETURNING id`, [reward])) as { id: string }[];
      if (refuse) throw new DomainError('OUT_OF_STOCK', 'No more mugs');
      return { orderId: order!.id };
    },
    clock,
  );

const orders = async () => ((await db.query(`SELECT count(*)::int AS n FROM orders`)) as { n: number }[])[0]!.n;

describe('idempotent, on the shared table', () => {
  it('runs the work once per key: the same request again replays the stored result', async () => {
    const first = await placeOrder('order-key-1', 'mug');
    const again = await placeOrder('order-key-1', 'mug');
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ result: first.result, replayed: true });
    expect(await orders()).toBe(1);
    const [key] = (await db.query(`SELECT operation, result, created_at AS "createdAt" FROM idempotency_keys WHERE program_id = $1 AND key = $2`, [programId, 'order-key-1'])) as { operation: string; result: unknown; createdAt: Date }[];
    expect(key).toEqual({ operation: 'placeRewardOrder', result: first.result, createdAt: clock.now() });
  });

  it('refuses the key for a different request with CONFLICT, doing nothing', async () => {
    await expect(placeOrder('order-key-1', 'poster')).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
    expect(await orders()).toBe(1);
  });

  it('leaves nothing of a refused attempt, so the same key may be tried again', async () => {
    await expect(placeOrder('order-key-2', 'mug', true)).rejects.toThrow('No more mugs');
    expect(await orders()).toBe(1);
    expect((await placeOrder('order-key-2', 'mug')).replayed).toBe(false);
    expect(await orders()).toBe(2);
  });

  it('lets one of many simultaneous requests with one key do the work; the others replay it', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => placeOrder('order-key-3', 'mug')));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.result.orderId)).size).toBe(1);
    expect(await orders()).toBe(3);
  });
});
