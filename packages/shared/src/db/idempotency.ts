import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import type { Clock } from '../clock';
import { conflict, InputError } from '../errors';
import { isConnectionLoss } from './database';

/**
 * Exactly-once writes. The key row and the effect commit in one transaction:
 * - same key, same input → the stored result, nothing happens again;
 * - same key, different input → CONFLICT;
 * - an attempt that failed (business rule, crash, killed connection) left nothing behind, so the
 *   client may retry it with the same key.
 * Two requests with one key at the same moment: the second waits on the key's unique index until
 * the first commits, then replays its result. Keys are scoped per program.
 */
export interface IdempotentRequest {
  programId: string;
  key: string;
  operation: string;
  input: unknown;
}

const RETRYABLE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
const MAX_ATTEMPTS = 5;

export function validateKey(key: string): void {
  if (!/^[\w.:-]{8,100}$/.test(key)) throw new InputError('idempotencyKey must be 8 to 100 letters, digits or . _ : -', 'idempotencyKey');
}

export async function idempotent<T extends Record<string, unknown>>(
  db: DataSource,
  request: IdempotentRequest,
  work: (tx: EntityManager) => Promise<T>,
  clock: Clock,
): Promise<{ result: T; replayed: boolean }> {
  validateKey(request.key);
  const hash = requestHash(request.operation, request.input);
  return withRetries(
    () =>
      db.transaction(async (tx) => {
        const claimed = (await tx.query(
          `INSERT INTO idempotency_keys (program_id, key, operation, request_hash, result, created_at)
           VALUES ($1, $2, $3, $4, 'null', $5) ON CONFLICT DO NOTHING RETURNING key`,
          [request.programId, request.key, request.operation, hash, clock.now()],
        )) as unknown[];
        if (claimed.length === 0) {
          const [previous] = (await tx.query(`SELECT operation, request_hash, result FROM idempotency_keys WHERE program_id = $1 AND key = $2`, [request.programId, request.key])) as {
            operation: string;
            request_hash: string;
            result: T;
          }[];
          if (!previous || previous.operation !== request.operation || previous.request_hash !== hash) {
            throw conflict(`idempotencyKey ${request.key} was already used for a different request`);
          }
          return { result: previous.result, replayed: true };
        }
        const result = await work(tx);
        await tx.query(`UPDATE idempotency_keys SET result = $3 WHERE program_id = $1 AND key = $2`, [request.programId, request.key, JSON.stringify(result)]);
        return { result, replayed: false };
      }),
    // A lost connection: whether or not the first attempt committed, running it again is safe (the
    // key is there and the stored result comes back, or nothing happened and it runs now).
    isConnectionLoss,
  );
}

/**
 * Retries serialization failures and deadlocks (and, where the caller says it is safe, lost
 * connections) a bounded number of times with jitter. Anything else is thrown at once.
 */
export async function withRetries<T>(attempt: () => Promise<T>, alsoRetry: (error: unknown) => boolean = () => false): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
      const retryable = (code !== undefined && RETRYABLE.has(code)) || alsoRetry(error);
      if (!retryable || i >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** i));
    }
  }
}

/** A stable hash of the request: key order in objects does not matter. */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(stableJson(input)).digest('hex');
}

function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The keys' table, for a subgraph that lists this migration among its own. One row per key,
 * written in the same transaction as the effect: a committed key always has its effect, a
 * rolled-back attempt leaves neither (so it may be retried). The ledger does not list it: its
 * table of the same shape came earlier, with its core migration.
 */
export class IdempotencyKeys1764600000000 implements MigrationInterface {
  name = 'IdempotencyKeys1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        program_id uuid NOT NULL,
        key text NOT NULL,
        operation text NOT NULL,
        request_hash text NOT NULL,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
