import type { EntityManager } from 'typeorm';

/**
 * Work a handler leaves for the end of its consumer's transaction.
 *
 * A consumer applies up to 50 events in one transaction. A handler that adds to a row every event
 * touches (a program's totals for today) would lock that row at the first event and keep it until
 * the commit, so the consumer's lanes, and two replicas, would apply one transaction at a time.
 * Collected instead with `atCommit` and written once, just before the commit, summed and in a fixed
 * order, the row is held for one statement; and `perTransaction` reads what cannot change until
 * the commit (because the transaction holds a lock that keeps it) once instead of once per event.
 *
 * Outside a consumer's transaction (a handler called directly, a test, a backfill) there is no
 * scope: `atCommit` writes at once and `perTransaction` reads every time, so nothing is lost.
 */
type Flush<T> = (tx: EntityManager, items: T[]) => Promise<void>;

interface Scope {
  batches: Map<string, { items: unknown[]; flush: Flush<unknown> }>;
  reads: Map<string, Promise<unknown>>;
}

const scopes = new WeakMap<EntityManager, Scope>();

/**
 * Runs `work` (the handlers of one transaction) and then the work they deferred, in the same
 * transaction: if a flush fails, the transaction fails with it, and the events' effects go together.
 * Batches are written in the order of their keys, the same in every transaction, so two
 * transactions writing the same rows wait for each other instead of deadlocking.
 */
export async function withDeferredWork<T>(tx: EntityManager, work: () => Promise<T>): Promise<T> {
  const scope: Scope = { batches: new Map(), reads: new Map() };
  scopes.set(tx, scope);
  try {
    const result = await work();
    // A flush may defer more work (under another key): loop until none is left.
    while (scope.batches.size > 0) {
      const key = [...scope.batches.keys()].sort()[0]!;
      const batch = scope.batches.get(key)!;
      scope.batches.delete(key);
      await batch.flush(tx, batch.items);
    }
    return result;
  } finally {
    scopes.delete(tx);
  }
}

/**
 * Adds `item` to the transaction's batch under `key`; `flush` writes the whole batch before the
 * commit (the first caller's `flush` is used: one key, one writer). Without a scope, writes now.
 * Only for effects nothing in the same transaction reads back before the commit.
 */
export async function atCommit<T>(tx: EntityManager, key: string, item: T, flush: Flush<T>): Promise<void> {
  const scope = scopes.get(tx);
  if (!scope) return flush(tx, [item]);
  let batch = scope.batches.get(key);
  if (!batch) scope.batches.set(key, (batch = { items: [], flush: flush as Flush<unknown> }));
  batch.items.push(item);
}

/**
 * `read` once per transaction under `key` (every later call gets the first answer). Only for what
 * the transaction's own locks keep unchanged until the commit, or what may be that old.
 * Without a scope, reads every time.
 */
export function perTransaction<T>(tx: EntityManager, key: string, read: () => Promise<T>): Promise<T> {
  const scope = scopes.get(tx);
  if (!scope) return read();
  let value = scope.reads.get(key);
  if (!value) scope.reads.set(key, (value = read()));
  return value as Promise<T>;
}

/** Forgets a `perTransaction` answer (the transaction itself changed what it read). */
export function forgetPerTransaction(tx: EntityManager, key: string): void {
  scopes.get(tx)?.reads.delete(key);
}
