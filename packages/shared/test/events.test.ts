import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, createLogger, createViewerSigner, serviceViewer, systemClock, VIEWER_HEADER, type Logger } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import {
  atCommit,
  emitEvents,
  EventConsumer,
  EventConsumers1764100000001,
  FEED_PATH,
  feedHandler,
  HttpEventSource,
  Outbox1764100000000,
  OutboxFeed,
  perTransaction,
  type EventConsumerOptions,
  type EventHandler,
  type EventSource,
  type ReadOptions,
} from '@loyalty-graph/shared/events';
import { createTestDatabase } from '@loyalty-graph/testing';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Event delivery end to end, against real PostgreSQL: a producer database (outbox + a table of its
 * own) and a consumer database (consumer tables + `effects`, which has NO unique constraint on the
 * event: a doubled effect shows as two rows). Every test gets a fresh pair of databases.
 */

const SECRET = 'events-test-internal-secret-0123456789abcdef';
const logger = createLogger('events-test', 'silent');
const CONSUMER = 'test.producer-events';
const EVENT_TYPE = 'PointsAdjusted';

// ---------------------------------------------------------------------------------------------
// Schema of the two test databases
// ---------------------------------------------------------------------------------------------

/** The producer's own data: one row per change, written in the same transaction as its event. */
class ProducerChanges1764100000010 implements MigrationInterface {
  name = 'ProducerChanges1764100000010';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE member_changes (id bigserial PRIMARY KEY, member_id uuid NOT NULL, tag text NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE member_changes`);
  }
}

/** The consumer's projection. Deliberately no unique constraint on event_id. */
class Effects1764100000011 implements MigrationInterface {
  name = 'Effects1764100000011';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_id uuid NOT NULL, aggregate_version int NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE effects`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Run after each test, last registered first (stop consumers and servers, then close, then drop). */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface World {
  producerDb: DataSource;
  consumerDb: DataSource;
  producerUrl: string;
  consumerUrl: string;
  /** application_name of the consumer's connections (to find and kill them). */
  consumerApp: string;
  /** A feed over the producer's outbox, closed after the test. */
  feed(options?: { listen?: boolean }): OutboxFeed;
  /** A consumer of `source` (the in-process feed by default) applying `recordEffect`, registered. */
  consumer(options?: Partial<EventConsumerOptions>): Promise<EventConsumer>;
}

async function world(label: string): Promise<World> {
  const producer = await createTestDatabase('ev_producer');
  cleanups.push(() => producer.drop());
  const consumer = await createTestDatabase('ev_consumer');
  cleanups.push(() => consumer.drop());
  const consumerApp = `events-test-${label}-consumer`;
  const producerDb = await openDatabase({
    url: producer.url,
    entities: [],
    migrations: [Outbox1764100000000, ProducerChanges1764100000010],
    applicationName: `events-test-${label}-producer`,
    poolSize: 16,
  });
  cleanups.push(() => producerDb.destroy());
  const consumerDb = await openDatabase({ url: consumer.url, entities: [], migrations: [EventConsumers1764100000001, Effects1764100000011], applicationName: consumerApp, poolSize: 4 });
  cleanups.push(() => consumerDb.destroy());
  const w: World = {
    producerDb,
    consumerDb,
    producerUrl: producer.url,
    consumerUrl: consumer.url,
    consumerApp,
    feed(options = {}) {
      const feed = new OutboxFeed({ producer: 'producer', db: producerDb, logger, ...(options.listen === false ? { listenUrl: false } : {}) });
      cleanups.push(() => feed.close());
      return feed;
    },
    async consumer(options = {}) {
      const consumer = new EventConsumer({
        name: CONSUMER,
        db: consumerDb,
        source: options.source ?? w.feed(),
        handlers: { [EVENT_TYPE]: recordEffect },
        clock: systemClock,
        logger,
        batchSize: 50,
        maxAttempts: 3,
        retryDelayMs: 5,
        // Short long polls: OutboxFeed.read ignores the abort signal, so stop() waits out the poll in hand.
        waitMs: 300,
        ...options,
      });
      await consumer.register();
      return consumer;
    },
  };
  return w;
}

/** The effect under test: one row per application of an event. */
const recordEffect: EventHandler = async (tx, event) => {
  await tx.query(`INSERT INTO effects (event_id, aggregate_id, aggregate_version) VALUES ($1, $2, $3)`, [event.id, event.aggregateId, event.aggregateVersion]);
};

/** Starts a consumer's live loop and stops it after the test (if the test did not). */
function startLive(consumer: EventConsumer): { stop(): Promise<void> } {
  const running = consumer.start();
  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= running.stop());
  cleanups.push(stop);
  return { stop };
}

/** Passes reads through, noting any batch that is not the next positions in a row (after+1, after+2, …). */
function denseChecked(source: EventSource): EventSource & { gaps: string[] } {
  const checked = {
    producer: source.producer,
    gaps: [] as string[],
    async read(after: number, limit: number, waitMs: number, options?: ReadOptions) {
      const batch = await source.read(after, limit, waitMs, options);
      batch.events.forEach((event, i) => {
        if (event.position !== after + 1 + i) checked.gaps.push(`read after ${after}: event ${i} has position ${event.position}`);
      });
      return batch;
    },
  };
  return checked;
}

/** A logger that only counts, to show a consumer did hit (and log) failures. */
function countingLogger() {
  const counts = { failedPolls: 0, error: 0 };
  // A failed poll is logged at debug at first and at warn once failures last: count both.
  const poll = (msg: string) => void (msg.includes('poll failed') && counts.failedPolls++);
  const logger: Logger = { debug: poll, info: () => undefined, warn: poll, error: () => void counts.error++ };
  return { counts, logger };
}

class RolledBack extends Error {}

/**
 * One producer transaction: a change row per member and one event per member, committed together
 * or (rollback) not at all. `holdMs` keeps the transaction open after writing, so commit order
 * differs from outbox id order. Returns the tags of the committed events ([] when rolled back).
 */
async function produce(db: DataSource, members: string[], options: { rollback?: boolean; holdMs?: number; payload?: Record<string, unknown> } = {}): Promise<string[]> {
  const tags = members.map(() => randomUUID());
  try {
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO member_changes (member_id, tag) SELECT * FROM unnest($1::uuid[], $2::text[])`, [members, tags]);
      await emitEvents(
        tx,
        members.map((member, i) => ({ aggregateType: 'Member', aggregateId: member, type: EVENT_TYPE, version: 1, payload: { tag: tags[i], ...options.payload } })),
        new Date(),
      );
      if (options.holdMs) await sleep(options.holdMs);
      if (options.rollback) throw new RolledBack();
    });
  } catch (error) {
    if (error instanceof RolledBack) return [];
    throw error;
  }
  return tags;
}

/** Produces `count` single-event transactions round-robin over `members`, `parallel` at a time. */
async function produceMany(db: DataSource, members: string[], count: number, parallel = 4): Promise<string[]> {
  const tags: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        tags.push(...(await produce(db, [members[i % members.length]!])));
      }
    }),
  );
  return tags;
}

const members = (n: number) => Array.from({ length: n }, () => randomUUID());

interface OutboxRow {
  id: number;
  event_id: string;
  aggregate_id: string;
  aggregate_version: number;
  position: number | null;
  tag: string;
}

async function outbox(db: DataSource): Promise<OutboxRow[]> {
  return db.query(`SELECT id::int, event_id, aggregate_id, aggregate_version, position::int, payload->>'tag' AS tag FROM outbox ORDER BY position NULLS LAST, id`);
}

async function effects(db: DataSource): Promise<{ event_id: string; aggregate_id: string; aggregate_version: number }[]> {
  return db.query(`SELECT event_id, aggregate_id, aggregate_version FROM effects ORDER BY id`);
}

/** Versions of one aggregate's effects, in the order they were applied. */
async function versionsOf(db: DataSource, aggregateId: string): Promise<number[]> {
  const rows = (await db.query(`SELECT aggregate_version FROM effects WHERE aggregate_id = $1 ORDER BY id`, [aggregateId])) as { aggregate_version: number }[];
  return rows.map((r) => r.aggregate_version);
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * The delivery guarantees, checked against both databases:
 *  - the outbox holds exactly the committed transactions' events (none of the rolled-back ones),
 *    numbered with dense positions 1..N, and each aggregate's versions are 1..n in position order;
 *  - every one of them was applied exactly once (no event missing, none doubled, nothing else);
 *  - per aggregate, effects were applied in version order 1, 2, 3… without a gap;
 *  - the consumer recorded positions 1..N as processed.
 */
async function expectDeliveredExactlyOnceInOrder(w: World, committedTags: string[]): Promise<void> {
  const rows = await outbox(w.producerDb);
  expect(rows.map((r) => r.tag).sort()).toEqual([...committedTags].sort());
  expect(rows.map((r) => r.position)).toEqual(range(1, rows.length));
  const changes = (await w.producerDb.query(`SELECT tag FROM member_changes`)) as { tag: string }[];
  expect(changes.map((c) => c.tag).sort()).toEqual([...committedTags].sort());

  const applied = await effects(w.consumerDb);
  const times = new Map<string, number>();
  for (const e of applied) times.set(e.event_id, (times.get(e.event_id) ?? 0) + 1);
  const doubled = [...times].filter(([, n]) => n > 1);
  const missing = rows.filter((r) => !times.has(r.event_id)).map((r) => r.position);
  const foreign = [...times.keys()].filter((id) => !rows.some((r) => r.event_id === id));
  expect({ doubled, missing, foreign }).toEqual({ doubled: [], missing: [], foreign: [] });

  const byAggregateFeed = new Map<string, number[]>();
  const byAggregateApplied = new Map<string, number[]>();
  for (const r of rows) byAggregateFeed.set(r.aggregate_id, [...(byAggregateFeed.get(r.aggregate_id) ?? []), r.aggregate_version]);
  for (const e of applied) byAggregateApplied.set(e.aggregate_id, [...(byAggregateApplied.get(e.aggregate_id) ?? []), e.aggregate_version]);
  for (const [aggregate, versions] of byAggregateFeed) {
    expect(versions, `feed order of ${aggregate}`).toEqual(range(1, versions.length));
    expect(byAggregateApplied.get(aggregate), `applied order of ${aggregate}`).toEqual(range(1, versions.length));
  }

  const processed = (await w.consumerDb.query(`SELECT position::int FROM processed_events WHERE consumer = $1 ORDER BY position`, [CONSUMER])) as { position: number }[];
  expect(processed.map((p) => p.position)).toEqual(range(1, rows.length));
}

async function outboxCount(db: DataSource): Promise<number> {
  const [row] = (await db.query(`SELECT count(*)::int AS n FROM outbox`)) as [{ n: number }];
  return row.n;
}

/** Waits until the consumer's stored position reached every committed event of the producer. */
async function caughtUp(w: World, consumer: EventConsumer, timeoutMs = 20_000): Promise<void> {
  const total = await outboxCount(w.producerDb);
  await waitFor(`consumer at position ${total}`, async () => (await consumer.status()).position >= total, timeoutMs);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG, so a failing interleaving of choices can be rerun. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A relay: the producer's feed over node:http on a free port, as a subgraph serves it on /events. */
async function serveFeed(feed: EventSource): Promise<{ url: string; stop(): Promise<void> }> {
  const handle = feedHandler(feed, SECRET);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== FEED_PATH) return void res.writeHead(404).end();
    handle(req, res, url).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | null = null;
  // Like a crashed relay: open connections (long polls in flight) are cut, not drained.
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  cleanups.push(stop);
  return { url: `http://127.0.0.1:${port}/graphql`, stop };
}

/** Kills the consumer's database connections; returns how many, and how many were mid-transaction. */
async function killBackends(admin: DataSource, applicationName: string): Promise<{ killed: number; busy: number }> {
  const [row] = (await admin.query(
    `SELECT count(*)::int AS killed, count(*) FILTER (WHERE state <> 'idle')::int AS busy
     FROM (SELECT state, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()) t`,
    [applicationName],
  )) as [{ killed: number; busy: number }];
  return row;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/consumer-process.ts', import.meta.url));

/** Runs the consumer in a child process (see fixtures/consumer-process.ts). */
function spawnConsumer(w: World): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, CONSUMER_DB_URL: w.consumerUrl, PRODUCER_DB_URL: w.producerUrl, CONSUMER_NAME: CONSUMER },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited };
}

async function effectCount(db: DataSource): Promise<number> {
  const [row] = (await db.query(`SELECT count(*)::int AS n FROM effects`)) as [{ n: number }];
  return row.n;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('event delivery under concurrent producers', () => {
  it('applies every committed event exactly once, none rolled back, each aggregate in version order, with dense positions', async () => {
    const w = await world('concurrency');
    // Every batch the consumer is served must continue exactly where it asked (dense positions).
    const source = denseChecked(w.feed());
    const consumer = await w.consumer({ source });
    const live = startLive(consumer);

    // Six members shared by eight workers, so writers of one member contend on its version row.
    // Some transactions roll back after writing; some emit two events (the same member twice, or
    // two members in a fixed order, as a real producer must to avoid deadlocks); some stay open a
    // moment after writing, so transactions commit in another order than their outbox ids.
    const pool = members(6);
    const committed: string[] = [];
    let rolledBack = 0;
    let producing = true;
    const workers = Array.from({ length: 8 }, async (_, worker) => {
      const random = prng(1_000 + worker);
      for (let i = 0; i < 100; i++) {
        const a = pool[Math.floor(random() * pool.length)]!;
        const b = pool[Math.floor(random() * pool.length)]!;
        const roll = random();
        const targets = roll < 0.15 ? [a, a] : roll < 0.3 ? [a, b].sort() : [a];
        const rollback = random() < 0.1;
        const tags = await produce(w.producerDb, targets, { rollback, holdMs: random() < 0.3 ? Math.floor(random() * 4) : 0 });
        if (rollback) rolledBack++;
        committed.push(...tags);
      }
    });
    // A second relay replica numbering at the same time: the sequencer lock must keep positions dense.
    const replica = w.feed({ listen: false });
    const racingSequencer = (async () => {
      while (producing) await replica.sequence();
    })();
    await Promise.all(workers);
    producing = false;
    await racingSequencer;

    await caughtUp(w, consumer);
    await live.stop();
    expect(await consumer.drain()).toBe(0);

    expect(rolledBack).toBeGreaterThan(0);
    expect(source.gaps).toEqual([]);
    await expectDeliveredExactlyOnceInOrder(w, committed);
    const status = await consumer.status();
    expect(status).toMatchObject({ position: committed.length, head: committed.length, lag: 0, deadLetters: 0, parked: 0 });
    // The hard case for the sequencer really happened: a row with a lower id committed (and was
    // numbered) after one with a higher id.
    const [{ inversions }] = (await w.producerDb.query(`SELECT count(*)::int AS inversions FROM outbox a JOIN outbox b ON a.id < b.id AND a.position > b.position`)) as [
      { inversions: number },
    ];
    expect(inversions).toBeGreaterThan(0);
  });
});

describe('a consumer that dies', () => {
  it('killed (SIGKILL) twice in the middle of a backlog, then restarted: nothing lost, nothing doubled, order kept', async () => {
    const w = await world('sigkill');
    // The backlog: 1,200 events over twelve members, produced before any consumer runs.
    const committed = await produceMany(w.producerDb, members(12), 1_200, 8);

    // Two consumer processes in turn, each SIGKILLed while applying, in the middle of a batch of
    // 200: the first after about 120 effects, the second (resuming where the first stopped) after 450.
    let killedAt = 0;
    for (const threshold of [120, 450]) {
      const { child, exited } = spawnConsumer(w);
      await waitFor(`the child consumer to apply ${threshold} events`, async () => {
        if (child.exitCode !== null) throw new Error(`the child consumer exited (${child.exitCode}) before it was killed`);
        return (await effectCount(w.consumerDb)) >= threshold;
      });
      child.kill('SIGKILL');
      expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
      killedAt = await effectCount(w.consumerDb);
      // Still mid-backlog: the kill interrupted work, it did not find a finished consumer.
      expect(killedAt).toBeLessThan(committed.length);
    }

    // A new consumer of the same name continues from the stored position (it does not re-read
    // the whole feed: at most the batch that was cut off, again).
    const consumer = await w.consumer({ batchSize: 200 });
    const read = await consumer.drain();
    expect(read).toBeLessThanOrEqual(committed.length - killedAt + 200);
    await expectDeliveredExactlyOnceInOrder(w, committed);
  });

  it('whose database connections are killed mid-batch while it runs live recovers by itself', async () => {
    const w = await world('killdb');
    const { counts, logger: consumerLogger } = countingLogger();
    const consumer = await w.consumer({ retryDelayMs: 10, logger: consumerLogger });
    const live = startLive(consumer);

    const pool = members(8);
    let producing = true;
    const production = produceMany(w.producerDb, pool, 600, 4).finally(() => (producing = false));

    // Kill every connection of the consumer's pool, over and over, until the producers are done
    // and at least three kills cut a connection in the middle of its work.
    let killed = 0;
    let busy = 0;
    const committedExtra: string[] = [];
    while (producing || busy < 3) {
      const hit = await killBackends(w.producerDb, w.consumerApp);
      killed += hit.killed;
      busy += hit.busy;
      if (!producing && busy < 3) await produce(w.producerDb, [pool[0]!]).then((tags) => committedExtra.push(...tags));
      await sleep(40);
    }
    const committed = [...(await production), ...committedExtra];
    expect(killed).toBeGreaterThan(3);

    await caughtUp(w, consumer);
    await live.stop();
    await expectDeliveredExactlyOnceInOrder(w, committed);
    // The kills did break its work (it logged failed polls), yet it recovered with no one restarting it.
    expect(counts.failedPolls).toBeGreaterThan(0);
    // A lost connection is not the event's fault: nothing was dead-lettered, and the error cleared.
    expect(counts.error).toBe(0);
    expect(await consumer.status()).toMatchObject({ deadLetters: 0, parked: 0, lag: 0, lastError: null });
  });
});

describe('a relay (the producer feed over HTTP) that dies', () => {
  it('is caught up with after it comes back on another address, nothing lost or doubled', async () => {
    const w = await world('relay');
    const firstFeed = w.feed();
    let relay = await serveFeed(firstFeed);
    let relayUrl = relay.url;
    const source = new HttpEventSource('producer', () => relayUrl, SECRET, 'test-consumer');
    const consumer = await w.consumer({ source, waitMs: 2_000, retryDelayMs: 10 });
    const live = startLive(consumer);

    // Producers write all along; the relay dies (connections cut, feed closed) while events flow.
    const pool = members(5);
    const production = produceMany(w.producerDb, pool, 300, 2);
    await waitFor('the first events to arrive', async () => (await effectCount(w.consumerDb)) >= 60);
    await relay.stop();
    await firstFeed.close();
    await waitFor('the consumer to notice the relay is gone', async () => (await consumer.status()).lastError !== null, 5_000);
    const committed = await production;
    // It really was cut off mid-stream: committed events are waiting for it.
    const stuckAt = (await consumer.status()).position;
    expect(stuckAt).toBeLessThan(committed.length);

    // A new relay on a new port; the consumer resolves the producer's address on every read.
    relay = await serveFeed(w.feed());
    relayUrl = relay.url;
    committed.push(...(await produceMany(w.producerDb, pool, 100, 2)));
    await caughtUp(w, consumer);
    await live.stop();

    await expectDeliveredExactlyOnceInOrder(w, committed);
    expect(await consumer.status()).toMatchObject({ position: 400, head: 400, lastError: null });
  });

  it('serves the feed only to services with a valid internal token', async () => {
    const w = await world('relay-auth');
    await produce(w.producerDb, members(1));
    const relay = await serveFeed(w.feed());
    const feedUrl = new URL(`${FEED_PATH}?after=0&limit=10`, relay.url);
    const sign = createViewerSigner(SECRET);

    expect((await fetch(feedUrl)).status).toBe(401);
    const member = await sign({ ...ANONYMOUS, kind: 'MEMBER', subject: 'someone', memberId: randomUUID() });
    expect((await fetch(feedUrl, { headers: { [VIEWER_HEADER]: member } })).status).toBe(401);
    const forged = await createViewerSigner('another-secret-that-is-long-enough-0123456789')(serviceViewer('intruder'));
    expect((await fetch(feedUrl, { headers: { [VIEWER_HEADER]: forged } })).status).toBe(401);
    await expect(new HttpEventSource('producer', () => relay.url, 'another-secret-that-is-long-enough-0123456789', 'intruder').read(0, 10, 0)).rejects.toThrow(/401/);

    const service = await sign(serviceViewer('test-consumer'));
    const ok = await fetch(feedUrl, { headers: { [VIEWER_HEADER]: service } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { events: unknown[] }).events).toHaveLength(1);
  });
});

describe('a poisoned event', () => {
  /** A handler that cannot apply events marked `poison` while `broken` is set, and counts its tries. */
  function poisonable() {
    const state = { broken: true, tries: 0 };
    const handler: EventHandler = async (tx, event) => {
      if (event.payload['poison']) {
        state.tries++;
        if (state.broken) throw new Error('cannot apply this event');
      }
      await recordEffect(tx, event);
    };
    return { state, handlers: { [EVENT_TYPE]: handler } };
  }

  it('is dead-lettered after maxAttempts, parks its aggregate while others flow, and replays in order once fixed', async () => {
    const w = await world('poison');
    const [victim, other1, other2] = members(3) as [string, string, string];
    const { state, handlers } = poisonable();
    const consumer = await w.consumer({ handlers, maxAttempts: 3, retryDelayMs: 5 });

    // Five rounds of one event per member; the victim's second event is the poison.
    const committed: string[] = [];
    for (let round = 1; round <= 5; round++) {
      committed.push(...(await produce(w.producerDb, [victim], { payload: { poison: round === 2 } })));
      committed.push(...(await produce(w.producerDb, [other1, other2])));
    }
    await consumer.drain();

    expect(state.tries).toBe(3);
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1]);
    expect(await versionsOf(w.consumerDb, other1)).toEqual([1, 2, 3, 4, 5]);
    expect(await versionsOf(w.consumerDb, other2)).toEqual([1, 2, 3, 4, 5]);
    const letters = await consumer.deadLetters();
    expect(letters.map((l) => [l.state, l.event.aggregateVersion, l.attempts])).toEqual([
      ['FAILED', 2, 3],
      ['PARKED', 3, 0],
      ['PARKED', 4, 0],
      ['PARKED', 5, 0],
    ]);
    expect(letters[0]!.error).toBe('cannot apply this event');
    expect(await consumer.status()).toMatchObject({ position: 15, lag: 0, deadLetters: 1, parked: 3 });

    // While the aggregate is blocked, its new events park too; others' still apply.
    committed.push(...(await produce(w.producerDb, [victim, other1].sort())));
    await consumer.drain();
    expect(await consumer.status()).toMatchObject({ position: 17, deadLetters: 1, parked: 4 });
    expect(await versionsOf(w.consumerDb, other1)).toEqual([1, 2, 3, 4, 5, 6]);

    // Replaying while still broken: it fails again, stays FAILED, and nothing behind it moves.
    const again = await consumer.replay(letters[0]!.id);
    expect(again).toMatchObject({ replayed: 0, failed: { id: letters[0]!.id, state: 'FAILED', attempts: 4 } });
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1]);
    expect(await consumer.status()).toMatchObject({ deadLetters: 1, parked: 4 });

    // Fixed: the replay applies the dead letter, then everything parked behind it, in order, once.
    state.broken = false;
    expect(await consumer.replay(letters[0]!.id)).toEqual({ replayed: 5, failed: null });
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await consumer.status()).toMatchObject({ deadLetters: 0, parked: 0 });
    expect(await consumer.deadLetters(['REPLAYED'])).toHaveLength(5);
    // A second replay finds nothing open and changes nothing.
    expect(await consumer.replay(letters[0]!.id)).toEqual({ replayed: 0, failed: null });
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1, 2, 3, 4, 5, 6]);

    // The aggregate flows again without parking.
    committed.push(...(await produce(w.producerDb, [victim])));
    await consumer.drain();
    expect(await consumer.status()).toMatchObject({ position: 18, deadLetters: 0, parked: 0 });
    await expectDeliveredExactlyOnceInOrder(w, committed);
  });

  it('once discarded, is never applied, and what was parked behind it is applied in order', async () => {
    const w = await world('discard');
    const [victim, other] = members(2) as [string, string];
    const { handlers } = poisonable();
    const consumer = await w.consumer({ handlers, maxAttempts: 2, retryDelayMs: 5 });
    for (let version = 1; version <= 3; version++) {
      await produce(w.producerDb, [victim], { payload: { poison: version === 1 } });
      await produce(w.producerDb, [other]);
    }
    await consumer.drain();
    const [failed] = await consumer.deadLetters(['FAILED']);
    expect(failed!.event.aggregateVersion).toBe(1);
    expect(await consumer.status()).toMatchObject({ deadLetters: 1, parked: 2 });

    expect(await consumer.discard(failed!.id)).toEqual({ replayed: 2, failed: null });
    expect(await versionsOf(w.consumerDb, victim)).toEqual([2, 3]);
    expect(await versionsOf(w.consumerDb, other)).toEqual([1, 2, 3]);
    expect(await consumer.status()).toMatchObject({ deadLetters: 0, parked: 0 });
    expect((await consumer.deadLetters(['DISCARDED'])).map((l) => l.eventId)).toEqual([failed!.eventId]);
    await expect(consumer.discard(failed!.id)).rejects.toThrow(/no open dead letter/);
  });
});

describe('work deferred to the commit', () => {
  /**
   * A handler that records its effect at once, adds its aggregate to a tally written once per
   * transaction (atCommit), and reads a setting once per transaction (perTransaction). The tally's
   * write fails while `broken` is set and it holds a poisoned event's aggregate.
   */
  async function tallying(w: World) {
    await w.consumerDb.query(`CREATE TABLE tallies (id serial PRIMARY KEY, aggregates uuid[] NOT NULL)`);
    const state = { broken: true, flushes: 0, reads: 0 };
    const flush = async (tx: EntityManager, items: { aggregateId: string; poison: boolean }[]) => {
      state.flushes++;
      if (state.broken && items.some((i) => i.poison)) throw new Error('cannot write this tally');
      await tx.query(`INSERT INTO tallies (aggregates) VALUES ($1)`, [items.map((i) => i.aggregateId)]);
    };
    const handler: EventHandler = async (tx, event) => {
      await perTransaction(tx, 'setting', async () => void state.reads++);
      await recordEffect(tx, event);
      await atCommit(tx, 'tally', { aggregateId: event.aggregateId, poison: event.payload['poison'] === true }, flush);
    };
    return { state, flush, handlers: { [EVENT_TYPE]: handler } };
  }

  const tallied = async (db: DataSource) =>
    ((await db.query(`SELECT aggregates FROM tallies ORDER BY id`)) as { aggregates: string[] }[]).map((r) => r.aggregates);

  it('is written once per transaction, with every event of it, and reads are shared by its events', async () => {
    const w = await world('deferred');
    const committed = await produceMany(w.producerDb, members(4), 30, 2);
    const { state, handlers } = await tallying(w);
    // One lane, transactions of 50: the 30 events are one transaction.
    const consumer = await w.consumer({ handlers, concurrency: 1, batchSize: 50 });
    expect(await consumer.drain()).toBe(30);
    await expectDeliveredExactlyOnceInOrder(w, committed);
    const tallies = await tallied(w.consumerDb);
    expect(tallies).toHaveLength(1);
    expect(tallies[0]).toHaveLength(30);
    expect(state).toMatchObject({ flushes: 1, reads: 1 });
  });

  it('that fails rolls back the events of its transaction; the run is applied event by event and only the poisoned one is dead-lettered', async () => {
    const w = await world('deferred-poison');
    const [victim, other] = members(2) as [string, string];
    const committed: string[] = [];
    for (let round = 1; round <= 3; round++) {
      committed.push(...(await produce(w.producerDb, [victim], { payload: { poison: round === 2 } })));
      committed.push(...(await produce(w.producerDb, [other])));
    }
    const { state, handlers } = await tallying(w);
    const consumer = await w.consumer({ handlers, concurrency: 1, maxAttempts: 2, retryDelayMs: 5 });
    await consumer.drain();
    // The poisoned event's effect went with its failed tally; the victim's third event waits behind it.
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1]);
    expect(await versionsOf(w.consumerDb, other)).toEqual([1, 2, 3]);
    expect((await tallied(w.consumerDb)).flat().sort()).toEqual([victim, other, other, other].sort());
    expect((await consumer.deadLetters()).map((l) => [l.state, l.event.aggregateVersion])).toEqual([
      ['FAILED', 2],
      ['PARKED', 3],
    ]);

    // Fixed and replayed: the effect and its tally are written together.
    state.broken = false;
    expect(await consumer.replay((await consumer.deadLetters())[0]!.id)).toEqual({ replayed: 2, failed: null });
    expect(await versionsOf(w.consumerDb, victim)).toEqual([1, 2, 3]);
    expect((await tallied(w.consumerDb)).flat().filter((a) => a === victim)).toHaveLength(3);
    await expectDeliveredExactlyOnceInOrder(w, committed);
  });

  it('is written at once when the handler runs outside a consumer (nothing waits for a commit that never flushes)', async () => {
    const w = await world('deferred-direct');
    const { state, handlers } = await tallying(w);
    const [member] = members(1) as [string];
    await w.consumerDb.transaction(async (tx) => {
      for (const version of [1, 2]) {
        await handlers[EVENT_TYPE](tx, { id: randomUUID(), aggregateId: member, aggregateVersion: version, payload: {} } as unknown as Parameters<EventHandler>[1]);
      }
      // Written by the time the handler returned, inside the caller's transaction.
      expect(((await tx.query(`SELECT count(*)::int AS n FROM tallies`)) as { n: number }[])[0]!.n).toBe(2);
    });
    expect(state).toMatchObject({ flushes: 2, reads: 2 });
  });
});

describe('replay from a position', () => {
  it('rewind(0) redelivers without a second effect; rewind(0, { forget }) applies again, to rebuild a projection', async () => {
    const w = await world('rewind');
    const committed = await produceMany(w.producerDb, members(4), 40, 2);
    const consumer = await w.consumer();
    expect(await consumer.drain()).toBe(40);

    await consumer.rewind(0);
    expect(await consumer.status()).toMatchObject({ position: 0 });
    expect(await consumer.drain()).toBe(40); // every event was read again…
    await expectDeliveredExactlyOnceInOrder(w, committed); // …and none applied twice
    expect(await consumer.status()).toMatchObject({ position: 40 });

    // A projection rebuild: the caller empties its table, the consumer forgets what it applied.
    await w.consumerDb.query(`DELETE FROM effects`);
    await consumer.rewind(0, { forget: true });
    expect(await consumer.drain()).toBe(40);
    await expectDeliveredExactlyOnceInOrder(w, committed);

    // Forgetting stops at the position: rewinding to 30 (without emptying) applies 31..40 again.
    await consumer.rewind(30, { forget: true });
    await consumer.drain();
    const doubled = (await w.consumerDb.query(
      `SELECT p.position::int FROM effects e JOIN processed_events p ON p.event_id = e.event_id GROUP BY p.position HAVING count(*) > 1 ORDER BY 1`,
    )) as { position: number }[];
    expect(doubled.map((d) => d.position)).toEqual(range(31, 40));
  });

  it('keeps dead-letter decisions: a FAILED event stays FAILED, and a DISCARDED one is not applied', async () => {
    const w = await world('rewind-dead');
    const [stuck, dropped, fine] = members(3) as [string, string, string];
    let broken = true;
    const handlers = {
      [EVENT_TYPE]: (async (tx, event) => {
        if (event.payload['poison'] && broken) throw new Error('cannot apply this event');
        await recordEffect(tx, event);
      }) satisfies EventHandler,
    };
    const consumer = await w.consumer({ handlers, maxAttempts: 1 });
    for (let version = 1; version <= 3; version++) {
      await produce(w.producerDb, [stuck], { payload: { poison: version === 2 } });
      await produce(w.producerDb, [dropped], { payload: { poison: version === 1 } });
      await produce(w.producerDb, [fine]);
    }
    await consumer.drain();
    const [dropLetter] = (await consumer.deadLetters(['FAILED'])).filter((l) => l.aggregateId === dropped);
    await consumer.discard(dropLetter!.id);
    expect(await consumer.status()).toMatchObject({ deadLetters: 1, parked: 1 });

    // The handler is fixed meanwhile; an operator rewinds to re-read everything.
    broken = false;
    await consumer.rewind(0);
    await consumer.drain();
    expect(await consumer.status()).toMatchObject({ deadLetters: 1, parked: 1 });
    expect((await consumer.deadLetters(['FAILED'])).map((l) => [l.aggregateId, l.event.aggregateVersion])).toEqual([[stuck, 2]]);
    expect(await versionsOf(w.consumerDb, dropped)).toEqual([2, 3]);
    expect(await versionsOf(w.consumerDb, stuck)).toEqual([1]);
    expect(await versionsOf(w.consumerDb, fine)).toEqual([1, 2, 3]);

    // And the stuck aggregate still replays as before, in order.
    const [stuckLetter] = await consumer.deadLetters(['FAILED']);
    expect(await consumer.replay(stuckLetter!.id)).toEqual({ replayed: 2, failed: null });
    expect(await versionsOf(w.consumerDb, stuck)).toEqual([1, 2, 3]);
  });
});

describe('the long poll', () => {
  it('returns soon after a commit (not before), and empty after waitMs when nothing happens', async () => {
    const w = await world('longpoll');
    const feed = w.feed();
    const [member] = members(1) as [string];
    await produce(w.producerDb, [member]);

    let started = Date.now();
    expect(await feed.read(1, 10, 600)).toEqual({ events: [], head: 1, scanned: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(Date.now() - started).toBeLessThan(1_500);

    // A transaction that wrote its event but has not committed wakes no one with it.
    let answeredAt = 0;
    started = Date.now();
    const waiting = feed.read(1, 10, 10_000).then((batch) => ((answeredAt = Date.now()), batch));
    const tx = w.producerDb.createQueryRunner();
    await tx.connect();
    await tx.startTransaction();
    await emitEvents(tx.manager, [{ aggregateType: 'Member', aggregateId: member, type: EVENT_TYPE, version: 1, payload: {} }], new Date());
    await sleep(400);
    expect(answeredAt).toBe(0);
    const committedAt = Date.now();
    await tx.commitTransaction();
    await tx.release();
    const batch = await waiting;
    expect(batch.events.map((e) => [e.position, e.aggregateVersion])).toEqual([[2, 2]]);
    expect(answeredAt - committedAt).toBeLessThan(1_000);

    // The same over HTTP, through the relay.
    const relay = await serveFeed(feed);
    const source = new HttpEventSource('producer', () => relay.url, SECRET, 'test-consumer');
    started = Date.now();
    expect(await source.read(2, 10, 500)).toEqual({ events: [], head: 2, scanned: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
    const overHttp = source.read(2, 10, 10_000).then((b) => ((answeredAt = Date.now()), b));
    await sleep(300);
    const producedAt = Date.now();
    await produce(w.producerDb, [member]);
    expect((await overHttp).events.map((e) => e.position)).toEqual([3]);
    expect(answeredAt - producedAt).toBeLessThan(1_000);
  });
});

// ---------------------------------------------------------------------------------------------
// A rewind racing the live loop (found in review: the position must not move for a batch read
// before the rewind, whichever replica finishes it)
// ---------------------------------------------------------------------------------------------

describe('a rewind racing a batch in hand', () => {
  /** The consumer DataSource, with a hook run just before pollOnce's final position UPDATE. */
  function hooked(db: DataSource, before: () => Promise<void>): DataSource {
    let armed = true;
    return new Proxy(db, {
      get(target, prop) {
        if (prop === 'query')
          return async (sql: string, params?: unknown[]) => {
            if (armed && sql.includes('SET position = greatest(position')) {
              armed = false;
              await before();
            }
            return target.query(sql, params);
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('a rebuild (rewind with forget) landing between the lanes and the position update is not undone', async () => {
    const w = await world('rewind-rebuild');
    const feed = w.feed({ listen: false });
    await produceMany(w.producerDb, members(10), 10);
    const operator = await w.consumer({ source: feed, batchSize: 10 });
    const live = await w.consumer({
      source: feed,
      batchSize: 10,
      db: hooked(w.consumerDb, async () => {
        // The operator rebuilds the projection: empties it, forgets, rewinds to the start.
        await w.consumerDb.query(`DELETE FROM effects`);
        await operator.rewind(0, { forget: true });
      }),
    });
    await live.pollOnce();
    await operator.drain();
    expect(await operator.status()).toMatchObject({ position: 10 });
    expect(await effectCount(w.consumerDb)).toBe(10);
  });

  it('two replicas and a rewind: no event is skipped when the other replica has meanwhile moved on', async () => {
    const w = await world('rewind-replicas');
    const feed = w.feed({ listen: false });
    await produceMany(w.producerDb, members(10), 10);
    const b = await w.consumer({ source: feed, batchSize: 10 });
    await b.drain();
    await produceMany(w.producerDb, members(10), 10);
    // Replica A reads 11..20; the operator rewinds to 5 before A plans; replica B then polls 6..15.
    const sourceA: EventSource = {
      producer: 'producer',
      read: async (...args) => {
        const batch = await feed.read(...args);
        await b.rewind(5);
        return batch;
      },
    };
    const a = await w.consumer({ source: sourceA, batchSize: 10, db: hooked(w.consumerDb, async () => void (await b.pollOnce())) });
    await a.pollOnce();
    await b.drain();
    expect(await b.status()).toMatchObject({ position: 20 });
    const [{ n }] = (await w.consumerDb.query(`SELECT count(DISTINCT event_id)::int AS n FROM effects`)) as [{ n: number }];
    expect(n).toBe(20);
  });
});

describe('retention', () => {
  it('prunes what was processed before the horizon, and refuses a replay from before it unless rebuilding', async () => {
    const w = await world('prune');
    await produceMany(w.producerDb, members(5), 20);
    const consumer = await w.consumer();
    await consumer.drain();
    // Nothing is younger than "a minute ago" ... everything is younger than "in a minute".
    expect(await consumer.prune(new Date(Date.now() - 60_000))).toBe(0);
    expect(await consumer.prune(new Date(Date.now() + 60_000), 7)).toBe(20);
    expect(await w.consumerDb.query(`SELECT count(*)::int AS n FROM processed_events`)).toEqual([{ n: 0 }]);
    // A replay from before the pruned records could apply them twice: refused.
    await expect(consumer.rewind(0)).rejects.toThrow(/without forget/);
    expect(await effectCount(w.consumerDb)).toBe(20);
    // A rebuild may: the projection is emptied and every event applies once more.
    await w.consumerDb.query(`DELETE FROM effects`);
    await consumer.rewind(0, { forget: true });
    await consumer.drain();
    expect(await effectCount(w.consumerDb)).toBe(20);
  });
});
