import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import type { Clock } from '../clock';
import { isConnectionLoss, returning } from '../db';
import type { Logger } from '../logger';
import type { EventEnvelope } from './envelope';
import { withDeferredWork } from './deferred';
import { runUntilStopped, sleep } from './loop';
import type { EventSource } from './source';

/** Applies one event inside the consumer's transaction; throwing rolls the effect back. */
export type EventHandler = (tx: EntityManager, event: EventEnvelope) => Promise<void>;

export interface EventConsumerOptions {
  /** Unique in the consumer's database, e.g. `members.ledger-events`. */
  name: string;
  db: DataSource;
  source: EventSource;
  /** By event type; events of other types are passed over (the position still moves). */
  handlers: Record<string, EventHandler>;
  clock: Clock;
  logger: Logger;
  batchSize?: number;
  /** Tries per event before it is dead-lettered. */
  maxAttempts?: number;
  /** First retry delay; doubles each try. */
  retryDelayMs?: number;
  /** How long one poll waits at the producer for new events. */
  waitMs?: number;
  /** Lanes applied at once (different aggregates in each); 1 applies strictly one at a time. */
  concurrency?: number;
  /**
   * Most events one transaction applies (default 50: one commit for many). 1 for handlers that lock
   * several aggregates' rows, so locks are never held across events in an order others do not follow.
   */
  transactionSize?: number;
  /**
   * Event types whose handlers lock several aggregates' rows: each applies in a transaction of its
   * own, so locks are never held across events in an order others do not follow. Other types
   * still share transactions.
   */
  soloTypes?: readonly string[];
  /** What applying these events does, in words. */
  does?: string;
}

export interface ConsumerStatus {
  name: string;
  producer: string;
  position: number;
  /** The producer's newest position at the last poll. */
  head: number;
  lag: number;
  lastPolledAt: Date | null;
  lastError: string | null;
  deadLetters: number;
  parked: number;
}

export type DeadLetterState = 'FAILED' | 'PARKED' | 'REPLAYED' | 'DISCARDED';

export interface DeadLetter {
  id: string;
  consumer: string;
  eventId: string;
  position: number;
  aggregateId: string;
  eventType: string;
  state: DeadLetterState;
  attempts: number;
  error: string | null;
  event: EventEnvelope;
  createdAt: Date;
  updatedAt: Date;
}

export interface ReplayOutcome {
  replayed: number;
  /** The dead letter that failed again (it stays FAILED, those after it stay PARKED). */
  failed: DeadLetter | null;
}

const OPEN = `state IN ('FAILED', 'PARKED')`;
/** Most events one transaction applies by default: keeps locks short while amortising the commit. */
const TRANSACTION_SIZE = 50;

/**
 * Delivers a producer's events to handlers at least once, in order, with no second effect:
 *  - each event is applied in its own transaction together with a `processed_events` row and
 *    the consumer's new position, so a crash anywhere either keeps all three or none;
 *  - a redelivered event finds its `processed_events` row and does nothing;
 *  - a failing event is retried with backoff, then dead-lettered (FAILED), and the position
 *    moves on, so other members' events flow; later events of the same aggregate are PARKED
 *    behind it, because applying them out of order would be wrong;
 *  - replaying a dead letter applies it and then the parked events of its aggregate, in order;
 *  - what handlers leave for the end of the transaction (`atCommit`, deferred.ts) is written
 *    before it commits, so it goes with the events' effects or not at all.
 * A transaction-scoped advisory lock per consumer makes its live runs, replays and rewinds take
 * turns, on one replica or several.
 */
export class EventConsumer {
  readonly name: string;
  readonly producer: string;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly waitMs: number;
  private readonly concurrency: number;
  private readonly transactionSize: number;
  private readonly soloTypes: ReadonlySet<string>;
  /** Only these are read from the producer: the position moves past the rest without fetching them. */
  readonly types: readonly string[];
  /** What applying these events does, in words (the catalogue in docs/events.md). */
  readonly does: string | undefined;

  constructor(private readonly options: EventConsumerOptions) {
    this.name = options.name;
    this.producer = options.source.producer;
    this.batchSize = options.batchSize ?? 200;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.waitMs = options.waitMs ?? 10_000;
    this.concurrency = options.concurrency ?? 4;
    this.transactionSize = options.transactionSize ?? TRANSACTION_SIZE;
    this.soloTypes = new Set(options.soloTypes ?? []);
    this.types = Object.keys(options.handlers);
    this.does = options.does;
  }

  /** Creates the consumer's position (at the start of the feed) if it has none. */
  async register(): Promise<void> {
    await this.options.db.query(
      `INSERT INTO event_consumers (name, producer, position, head, updated_at) VALUES ($1, $2, 0, 0, $3) ON CONFLICT (name) DO NOTHING`,
      [this.name, this.producer, this.options.clock.now()],
    );
  }

  /**
   * Reads one batch and applies it; returns how many events it read. The batch is split into
   * lanes by aggregate (an aggregate's events stay in one lane, in order) and the lanes run
   * concurrently, each in transactions of its own; the position moves past the batch only once
   * every lane is done, so a crash in between redelivers the batch and processed_events turns the
   * lanes that had committed into no-ops.
   */
  async pollOnce(waitMs = 0, signal?: AbortSignal): Promise<number> {
    const { position, generation } = await this.position();
    const batch = await this.options.source.read(position, this.batchSize, waitMs, { signal, types: this.types });
    const lanes = new Map<number, EventEnvelope[]>();
    for (const event of batch.events) {
      const lane = laneOf(event.aggregateId, this.concurrency);
      lanes.set(lane, [...(lanes.get(lane) ?? []), event]);
    }
    const outcomes = await Promise.allSettled([...lanes.values()].map((events) => this.applyLane(generation, events, signal)));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    if (signal?.aborted) return batch.events.length;
    // Past what the read looked at (other types included), unless the consumer was rewound meanwhile
    // (a new generation: its position is the operator's, and the next poll starts there).
    await this.options.db.query(
      `UPDATE event_consumers SET position = greatest(position, $3), head = greatest(head, $4), last_polled_at = $5, last_error = NULL, updated_at = $5
       WHERE name = $1 AND generation = $2`,
      [this.name, generation, batch.scanned, batch.head, this.options.clock.now()],
    );
    return batch.events.length;
  }

  /**
   * Polls until the consumer has reached the producer's head (tests and backfills). An empty read
   * alone is not the end: a broker transport may still be starting its delivery after a rewind.
   */
  async drain(): Promise<number> {
    let total = 0;
    for (let idle = 0; idle < 50; ) {
      const read = await this.pollOnce(idle ? 200 : 0);
      total += read;
      if (read) {
        idle = 0;
        continue;
      }
      const { position, head } = await this.status();
      if (position >= head) return total;
      idle++;
    }
    throw new Error(`${this.name} did not reach the head of ${this.producer}'s events`);
  }

  /** Runs until stopped, long-polling the producer; failures back off and retry from the stored position. */
  start(): { stop(): Promise<void> } {
    return runUntilStopped(
      (signal) => this.pollOnce(this.waitMs, signal),
      async (error, failures) => {
        // A producer still starting (or restarting) is normal for a moment; say so loudly only when it lasts.
        const log = failures >= 3 ? this.options.logger.warn : this.options.logger.debug;
        log.call(this.options.logger, 'event consumer poll failed; retrying', { consumer: this.name, failures, error: describe(error) });
        await this.recordError(error).catch(() => undefined);
      },
      this.retryDelayMs,
    );
  }


  /**
   * Replays from a position: events after it are delivered again. Already processed ones have no
   * second effect, unless `forget` is set (rebuilding a projection the caller has emptied).
   */
  async rewind(position: number, options: { forget?: boolean } = {}): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      await this.lockConsumer(tx);
      const [{ retainedFrom }] = (await tx.query(`SELECT retained_from::text AS "retainedFrom" FROM event_consumers WHERE name = $1`, [this.name])) as [{ retainedFrom: string }];
      if (!options.forget && position < Number(retainedFrom)) {
        throw new Error(
          `${this.name} cannot replay from ${position} without forget: what it processed up to ${retainedFrom} was pruned, so those events could apply twice (rebuild with forget instead)`,
        );
      }
      if (options.forget) await tx.query(`DELETE FROM processed_events WHERE consumer = $1 AND position > $2`, [this.name, position]);
      await tx.query(`UPDATE event_consumers SET position = $2, generation = generation + 1, updated_at = $3 WHERE name = $1`, [this.name, position, this.options.clock.now()]);
    });
  }

  /**
   * Forgets what was processed before `olderThan` (and dead letters closed before it), keeping the
   * table from growing with traffic. Only records behind the position go; a later replay from
   * before them must forget (rewind refuses otherwise). Deleted in slices, each its own short
   * transaction. Returns how many processed records went.
   */
  async prune(olderThan: Date, slice = 5_000): Promise<number> {
    let pruned = 0;
    for (;;) {
      const deleted = await this.options.db.transaction(async (tx) => {
        await this.lockConsumer(tx);
        const [row] = await returning<{ n: number }>(
          tx,
          `WITH gone AS (
             DELETE FROM processed_events WHERE ctid IN (
               SELECT p.ctid FROM processed_events p JOIN event_consumers c ON c.name = p.consumer
               WHERE p.consumer = $1 AND p.processed_at < $2 AND p.position <= c.position LIMIT $3)
             RETURNING position)
           UPDATE event_consumers SET retained_from = greatest(retained_from, (SELECT coalesce(max(position), 0) FROM gone))
           WHERE name = $1 RETURNING (SELECT count(*) FROM gone)::int AS n`,
          [this.name, olderThan, slice],
        );
        return row?.n ?? 0;
      });
      pruned += deleted;
      if (deleted < slice) break;
    }
    await this.options.db.query(`DELETE FROM dead_letters WHERE consumer = $1 AND state IN ('REPLAYED', 'DISCARDED') AND updated_at < $2`, [this.name, olderThan]);
    return pruned;
  }

  async status(): Promise<ConsumerStatus> {
    return (await consumerStatuses(this.options.db, [this.name]))[0]!;
  }

  async deadLetters(states: DeadLetterState[] = ['FAILED', 'PARKED'], limit = 100): Promise<DeadLetter[]> {
    return deadLetters(this.options.db, { consumer: this.name, states, limit });
  }

  /** Applies a dead letter again, then the events parked behind it, in order. */
  async replay(deadLetterId: string): Promise<ReplayOutcome> {
    const [letter] = await deadLetters(this.options.db, { consumer: this.name, id: deadLetterId });
    if (!letter) throw new Error(`no dead letter ${deadLetterId} for ${this.name}`);
    let replayed = 0;
    for (;;) {
      let failedId: string | null = null;
      let error: unknown = null;
      const done = await this.options.db
        .transaction((tx) => withDeferredWork(tx, async () => {
          await this.lockConsumer(tx);
          const [next] = (await tx.query(
            `SELECT id, event FROM dead_letters WHERE consumer = $1 AND aggregate_id = $2 AND ${OPEN} ORDER BY position LIMIT 1 FOR UPDATE`,
            [this.name, letter.aggregateId],
          )) as { id: string; event: EventEnvelope }[];
          if (!next) return true;
          failedId = next.id;
          await this.applyOnce(tx, next.event);
          await tx.query(`UPDATE dead_letters SET state = 'REPLAYED', updated_at = $2 WHERE id = $1`, [next.id, this.options.clock.now()]);
          return false;
        }))
        .catch((e: unknown) => {
          error = e;
          return true;
        });
      if (error) {
        if (isConnectionLoss(error)) throw error;
        await this.options.db.query(`UPDATE dead_letters SET state = 'FAILED', attempts = attempts + 1, error = $2, updated_at = $3 WHERE id = $1`, [
          failedId,
          describe(error),
          this.options.clock.now(),
        ]);
        const [failed] = await deadLetters(this.options.db, { consumer: this.name, id: failedId! });
        return { replayed, failed: failed ?? null };
      }
      if (done) return { replayed, failed: null };
      replayed++;
    }
  }

  /** Gives up on a dead letter (an operator decided it must not apply), then replays what was parked behind it. */
  async discard(deadLetterId: string): Promise<ReplayOutcome> {
    const updated = await returning(this.options.db, `UPDATE dead_letters SET state = 'DISCARDED', updated_at = $3 WHERE id = $1 AND consumer = $2 AND ${OPEN} RETURNING id`, [
      deadLetterId,
      this.name,
      this.options.clock.now(),
    ]);
    if (!updated.length) throw new Error(`no open dead letter ${deadLetterId} for ${this.name}`);
    return this.replay(deadLetterId);
  }

  private async position(): Promise<{ position: number; generation: number }> {
    const [row] = (await this.options.db.query(`SELECT position::text, generation FROM event_consumers WHERE name = $1`, [this.name])) as { position: string; generation: number }[];
    if (!row) throw new Error(`event consumer ${this.name} is not registered`);
    return { position: Number(row.position), generation: row.generation };
  }

  /** `generation`: the consumer's generation when the batch was read (a rewind starts a new one). */
  private async applyLane(generation: number, events: EventEnvelope[], signal?: AbortSignal): Promise<void> {
    for (const chunk of this.chunks(events)) {
      if (signal?.aborted) return;
      await this.applyChunk(generation, chunk);
    }
  }

  /** Runs of up to `transactionSize` events, in order; an event of a solo type is a run of its own. */
  private chunks(events: EventEnvelope[]): EventEnvelope[][] {
    const chunks: EventEnvelope[][] = [];
    let run: EventEnvelope[] = [];
    for (const event of events) {
      const solo = this.soloTypes.has(event.type);
      if (run.length && (solo || run.length >= this.transactionSize)) {
        chunks.push(run);
        run = [];
      }
      run.push(event);
      if (solo) {
        chunks.push(run);
        run = [];
      }
    }
    if (run.length) chunks.push(run);
    return chunks;
  }

  /**
   * Applies a run of events in one transaction (one commit for many events: the common case). If
   * any of them fails, nothing of the run is kept and it is applied again event by event, with
   * retries and dead letters.
   */
  private async applyChunk(generation: number, events: EventEnvelope[]): Promise<void> {
    let current: EventEnvelope | null = null;
    try {
      await this.options.db.transaction((tx) =>
        withDeferredWork(tx, async () => {
          for (const { event, action } of await this.plan(tx, generation, events)) {
            current = event;
            await this.perform(tx, event, action);
          }
          // What the handlers deferred is written next, before the commit: a failure there is no single event's.
          current = null;
        }),
      );
    } catch (error) {
      if (isConnectionLoss(error)) throw error;
      // The event that failed the run has had its first try.
      for (const event of events) await this.apply(generation, event, event === current ? 2 : 1);
    }
  }

  /** One event on its own: retried with backoff, dead-lettered after the last try. */
  private async apply(generation: number, event: EventEnvelope, firstAttempt = 1): Promise<void> {
    for (let attempt = firstAttempt; ; attempt++) {
      try {
        await this.options.db.transaction((tx) =>
          withDeferredWork(tx, async () => {
            for (const { action } of await this.plan(tx, generation, [event])) await this.perform(tx, event, action);
          }),
        );
        return;
      } catch (error) {
        // Our own database is unreachable: not the event's fault. Retry the batch later from the stored position.
        if (isConnectionLoss(error)) throw error;
        if (attempt >= this.maxAttempts) {
          this.options.logger.error('event dead-lettered', { consumer: this.name, eventId: event.id, type: event.type, error });
          await this.options.db.transaction(async (tx) => {
            await this.lockConsumer(tx, 'shared');
            // Another replica may have applied it meanwhile (it waited on our processed_events row).
            const [applied] = (await tx.query(`SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2`, [this.name, event.id])) as unknown[];
            if (!applied) await this.park(tx, event, 'FAILED', attempt, describe(error));
          });
          return;
        }
        await sleep(this.retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * Decides, in one query for the whole run, what to do with each event, and records the ones to
   * apply as processed (in the run's transaction, so with their effects or not at all). Lanes hold
   * the consumer's lock shared; replays and rewinds hold it exclusively, so they never interleave
   * with a run. Nothing to do when the consumer was rewound since the run was read.
   */
  private async plan(tx: EntityManager, generation: number, events: EventEnvelope[]): Promise<{ event: EventEnvelope; action: 'APPLY' | 'PARK' }[]> {
    await this.lockConsumer(tx, 'shared');
    const [row] = (await tx.query(`SELECT position::text, generation FROM event_consumers WHERE name = $1`, [this.name])) as [{ position: string; generation: number }];
    const position = Number(row.position);
    // Rewound since the batch was read: drop it. Moved past part of it (another replica): skip that part.
    if (row.generation !== generation) return [];
    const handled = events.filter((event) => event.position > position);
    if (!handled.length) return [];
    const states = (await tx.query(
      `SELECT e.event_id AS "eventId",
              (SELECT d.state FROM dead_letters d WHERE d.consumer = $1 AND d.event_id = e.event_id) AS own,
              EXISTS (SELECT 1 FROM dead_letters d WHERE d.consumer = $1 AND d.aggregate_id = e.aggregate_id AND d.${OPEN}) AS blocked,
              EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = $1 AND p.event_id = e.event_id) AS processed
       FROM unnest($2::uuid[], $3::uuid[]) AS e(event_id, aggregate_id)`,
      [this.name, handled.map((e) => e.id), handled.map((e) => e.aggregateId)],
    )) as { eventId: string; own: DeadLetterState | null; blocked: boolean; processed: boolean }[];
    const byId = new Map(states.map((state) => [state.eventId, state]));
    const toPark: EventEnvelope[] = [];
    const toApply: EventEnvelope[] = [];
    for (const event of handled) {
      const { own, blocked, processed } = byId.get(event.id)!;
      // Redelivered after a rewind: an event with an open dead letter waits for its replay (it stays
      // FAILED or PARKED), a discarded one must never apply, and one already applied is not parked again.
      if ((own && own !== 'REPLAYED') || processed) continue;
      (blocked ? toPark : toApply).push(event);
    }
    // Recorded as processed in the run's transaction, so with their effects or not at all. ON
    // CONFLICT: another replica applying the same run got there first; those have no second effect.
    const fresh = toApply.length
      ? new Set(
          (
            (await tx.query(
              `INSERT INTO processed_events (consumer, event_id, position, processed_at) SELECT $1, id, position, $4 FROM unnest($2::uuid[], $3::bigint[]) AS t(id, position)
               ON CONFLICT DO NOTHING RETURNING event_id AS "eventId"`,
              [this.name, toApply.map((e) => e.id), toApply.map((e) => e.position), this.options.clock.now()],
            )) as { eventId: string }[]
          ).map((r) => r.eventId),
        )
      : new Set<string>();
    return handled
      .filter((event) => toPark.includes(event) || fresh.has(event.id))
      .map((event) => ({ event, action: toPark.includes(event) ? ('PARK' as const) : ('APPLY' as const) }));
  }

  private async perform(tx: EntityManager, event: EventEnvelope, action: 'APPLY' | 'PARK'): Promise<void> {
    if (action === 'PARK') await this.park(tx, event, 'PARKED', 0, 'waiting behind an earlier failed event of the same aggregate');
    else await this.options.handlers[event.type]!(tx, event);
  }

  /** The effect, at most once per event id for this consumer. */
  private async applyOnce(tx: EntityManager, event: EventEnvelope): Promise<void> {
    const fresh = (await tx.query(
      `INSERT INTO processed_events (consumer, event_id, position, processed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [this.name, event.id, event.position, this.options.clock.now()],
    )) as unknown[];
    if (!fresh.length) return;
    const handler = this.options.handlers[event.type];
    if (handler) await handler(tx, event);
  }

  private async park(tx: EntityManager, event: EventEnvelope, state: 'FAILED' | 'PARKED', attempts: number, error: string): Promise<void> {
    const now = this.options.clock.now();
    await tx.query(
      `INSERT INTO dead_letters (consumer, event_id, position, aggregate_id, event_type, event, state, attempts, error, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
       ON CONFLICT (consumer, event_id) DO UPDATE SET state = EXCLUDED.state, attempts = dead_letters.attempts + EXCLUDED.attempts, error = EXCLUDED.error, updated_at = EXCLUDED.updated_at`,
      [this.name, event.id, event.position, event.aggregateId, event.type, JSON.stringify(event), state, attempts, error.slice(0, 2000), now],
    );
  }

  /** Transaction-scoped: live runs share it; a replay or a rewind takes it alone. */
  private async lockConsumer(tx: EntityManager, mode: 'shared' | 'exclusive' = 'exclusive'): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(hashtextextended($1, 0))`, [`event-consumer:${this.name}`]);
  }


  private async recordError(error: unknown): Promise<void> {
    await this.options.db.query(`UPDATE event_consumers SET last_error = $2, updated_at = $3 WHERE name = $1`, [this.name, describe(error), this.options.clock.now()]);
  }
}

/** Status of the given consumers (all of them when no names are given), for operators. */
export async function consumerStatuses(db: DataSource, names?: string[]): Promise<ConsumerStatus[]> {
  const rows = (await db.query(
    `SELECT c.name, c.producer, c.position::text, c.head::text, c.last_polled_at AS "lastPolledAt", c.last_error AS "lastError",
            (SELECT count(*)::int FROM dead_letters d WHERE d.consumer = c.name AND d.state = 'FAILED') AS "deadLetters",
            (SELECT count(*)::int FROM dead_letters d WHERE d.consumer = c.name AND d.state = 'PARKED') AS parked
     FROM event_consumers c WHERE $1::text[] IS NULL OR c.name = ANY($1) ORDER BY c.name`,
    [names ?? null],
  )) as (Omit<ConsumerStatus, 'position' | 'head' | 'lag'> & { position: string; head: string })[];
  return rows.map((row) => {
    const position = Number(row.position);
    const head = Number(row.head);
    return { ...row, position, head, lag: Math.max(0, head - position) };
  });
}

export async function deadLetters(db: DataSource, filter: { consumer?: string; id?: string; states?: DeadLetterState[]; limit?: number }): Promise<DeadLetter[]> {
  const rows = (await db.query(
    `SELECT id::text, consumer, event_id AS "eventId", position::text, aggregate_id AS "aggregateId", event_type AS "eventType", state, attempts, error, event,
            created_at AS "createdAt", updated_at AS "updatedAt"
     FROM dead_letters
     WHERE ($1::text IS NULL OR consumer = $1) AND ($2::uuid IS NULL OR id = $2) AND ($3::text[] IS NULL OR state = ANY($3))
     ORDER BY dead_letters.position LIMIT $4`,
    [filter.consumer ?? null, filter.id ?? null, filter.states ?? null, filter.limit ?? 100],
  )) as (Omit<DeadLetter, 'position'> & { position: string })[];
  return rows.map((row) => ({ ...row, position: Number(row.position) }));
}

/** Which lane an aggregate's events go to: stable, so its events keep their order. */
function laneOf(aggregateId: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < aggregateId.length; i++) hash = (hash * 31 + aggregateId.charCodeAt(i)) | 0;
  return Math.abs(hash) % lanes;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}

/** The consumer's tables; every subgraph that consumes events lists this migration. */
export class EventConsumers1764100000001 implements MigrationInterface {
  name = 'EventConsumers1764100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_consumers (
        name text PRIMARY KEY,
        producer text NOT NULL,
        position bigint NOT NULL CHECK (position >= 0),
        -- Bumped by every rewind: a batch read before it must not move the position after it.
        generation int NOT NULL DEFAULT 0,
        -- processed_events up to here were pruned: a replay from before it must forget, or it could apply twice.
        retained_from bigint NOT NULL DEFAULT 0,
        head bigint NOT NULL,
        last_polled_at timestamptz,
        last_error text,
        updated_at timestamptz NOT NULL
      )`);
    // What each consumer applied: a redelivered event finds its row and has no second effect.
    await q.query(`
      CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        position bigint NOT NULL,
        processed_at timestamptz NOT NULL,
        PRIMARY KEY (consumer, event_id)
      )`);
    await q.query(`
      CREATE TABLE dead_letters (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        position bigint NOT NULL,
        aggregate_id uuid NOT NULL,
        event_type text NOT NULL,
        event jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('FAILED', 'PARKED', 'REPLAYED', 'DISCARDED')),
        attempts int NOT NULL,
        error text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (consumer, event_id)
      )`);
    await q.query(`CREATE INDEX dead_letters_open ON dead_letters (consumer, aggregate_id, position) WHERE ${OPEN}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letters`);
    await q.query(`DROP TABLE processed_events`);
    await q.query(`DROP TABLE event_consumers`);
  }
}
