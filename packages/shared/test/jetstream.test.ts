import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type JetStreamManager } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, systemClock } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import {
  emitEvents,
  ensureStream,
  EventConsumer,
  EventConsumers1764100000001,
  JetStreamEventSource,
  JetStreamRelay,
  Outbox1764100000000,
  OutboxFeed,
  streamName,
  type EventHandler,
} from '@loyalty-graph/shared/events';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

/*
 * The NATS JetStream transport against a real NATS server (127.0.0.1:4222, or NATS_URL) and real
 * PostgreSQL: the producer's relay publishes its outbox, a consumer reads the stream. The default
 * transport needs no NATS; these tests run where a server answers (this project's machines and CI
 * run one) and say so when none does.
 */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const nats = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false }).catch(() => null);
if (!nats) process.stderr.write(`JetStream transport tests skipped: no NATS server answers at ${NATS_URL}\n`);

const logger = createLogger('jetstream-test', 'silent');

class Effects1764100000012 implements MigrationInterface {
  name = 'Effects1764100000012';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (id bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_id uuid NOT NULL, aggregate_version int NOT NULL)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE effects`);
  }
}

const recordEffect: EventHandler = async (tx, event) => {
  await tx.query(`INSERT INTO effects (event_id, aggregate_id, aggregate_version) VALUES ($1, $2, $3)`, [event.id, event.aggregateId, event.aggregateVersion]);
};

describe.runIf(nats)('the NATS JetStream transport', () => {
  const producer = `jstest${randomUUID().slice(0, 8)}`;
  let jsm: JetStreamManager;
  let producerDatabase: TestDatabase;
  let consumerDatabase: TestDatabase;
  let producerDb: DataSource;
  let consumerDb: DataSource;
  let feed: OutboxFeed;

  beforeAll(async () => {
    jsm = await (nats as NatsConnection).jetstreamManager();
    await ensureStream(jsm, producer);
    producerDatabase = await createTestDatabase('js_producer');
    consumerDatabase = await createTestDatabase('js_consumer');
    producerDb = await openDatabase({ url: producerDatabase.url, entities: [], migrations: [Outbox1764100000000], applicationName: 'js-producer', poolSize: 12 });
    consumerDb = await openDatabase({ url: consumerDatabase.url, entities: [], migrations: [EventConsumers1764100000001, Effects1764100000012], applicationName: 'js-consumer', poolSize: 6 });
    feed = new OutboxFeed({ producer, db: producerDb, logger });
  });
  afterAll(async () => {
    await feed?.close();
    await jsm?.streams.delete(streamName(producer)).catch(() => undefined);
    await nats?.drain();
    await producerDb?.destroy();
    await consumerDb?.destroy();
    await producerDatabase?.drop();
    await consumerDatabase?.drop();
  });

  /** Writes `count` events for random members of `aggregates`, from 4 concurrent writers; some of another type. */
  async function produce(aggregates: string[], count: number): Promise<void> {
    await Promise.all(
      [0, 1, 2, 3].map(async (worker) => {
        for (let i = worker; i < count; i += 4) {
          const type = i % 5 === 0 ? 'Unhandled' : 'PointsAdjusted';
          await producerDb.transaction((tx) => emitEvents(tx, [{ aggregateType: 'Member', aggregateId: aggregates[i % aggregates.length]!, type, version: 1, payload: { i } }], new Date()));
        }
      }),
    );
  }

  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('delivers every event once, in order per aggregate, with stream sequences equal to outbox positions, across relay restarts and two relays racing', async () => {
    const aggregates = Array.from({ length: 6 }, () => randomUUID());
    const source = new JetStreamEventSource(producer, nats!, jsm);
    const consumer = new EventConsumer({ name: 'js.consumer', db: consumerDb, source, handlers: { PointsAdjusted: recordEffect }, clock: systemClock, logger, waitMs: 500, batchSize: 50 });
    await consumer.register();
    const live = consumer.start();

    const first = new JetStreamRelay(feed, nats!, jsm, logger).start();
    await produce(aggregates, 200);
    await first.stop(); // the relay dies; events keep coming
    await produce(aggregates, 200);
    // Two relays at once (two replicas of the producer): the stream's expected-sequence check lets only one publish each position.
    const racing = [new JetStreamRelay(feed, nats!, jsm, logger).start(), new JetStreamRelay(new OutboxFeed({ producer, db: producerDb, logger }), nats!, jsm, logger).start()];
    await produce(aggregates, 200);

    const [{ total }] = (await producerDb.query(`SELECT count(*)::int AS total FROM outbox`)) as [{ total: number }];
    expect(total).toBe(600);
    await waitFor('the stream to hold every event', async () => (await jsm.streams.info(streamName(producer))).state.last_seq === total);
    await waitFor('the consumer to catch up', async () => (await consumer.status()).position === total);
    await live.stop();
    for (const relay of racing) await relay.stop();

    // Stream sequence = outbox position, no duplicates.
    for (const seq of [1, 137, 600]) {
      const message = await jsm.streams.getMessage(streamName(producer), { seq });
      expect(message.json<{ position: number }>().position).toBe(seq);
    }
    expect((await jsm.streams.info(streamName(producer))).state.messages).toBe(600);

    // Every handled event once, in version order per aggregate; the other type passed over.
    const effects = (await consumerDb.query(`SELECT event_id, aggregate_id, aggregate_version FROM effects ORDER BY id`)) as { event_id: string; aggregate_id: string; aggregate_version: number }[];
    const handled = (await producerDb.query(`SELECT event_id FROM outbox WHERE event_type = 'PointsAdjusted'`)) as { event_id: string }[];
    expect(effects).toHaveLength(handled.length);
    expect(new Set(effects.map((e) => e.event_id))).toEqual(new Set(handled.map((e) => e.event_id)));
    for (const aggregate of aggregates) {
      const versions = effects.filter((e) => e.aggregate_id === aggregate).map((e) => e.aggregate_version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
    expect(await consumer.status()).toMatchObject({ position: 600, head: 600, lag: 0, deadLetters: 0 });

    // Replay from the start: redelivered, no second effect; a rebuild (forget) applies everything again, once.
    await consumer.rewind(0);
    expect(await consumer.drain()).toBe(handled.length);
    expect(await consumerDb.query(`SELECT count(*)::int AS n FROM effects`)).toEqual([{ n: handled.length }]);
    await consumerDb.query(`DELETE FROM effects`);
    await consumer.rewind(0, { forget: true });
    await consumer.drain();
    expect(await consumerDb.query(`SELECT count(*)::int AS n FROM effects`)).toEqual([{ n: handled.length }]);

    // The stream ends with events of a type the consumer does not read (the server filters them
    // out): it still reaches the head, so its lag reads 0.
    for (let i = 0; i < 5; i++) await producerDb.transaction((tx) => emitEvents(tx, [{ aggregateType: 'Member', aggregateId: aggregates[0]!, type: 'Unhandled', version: 1, payload: {} }], new Date()));
    await new JetStreamRelay(feed, nats!, jsm, logger).publishOnce();
    await consumer.drain();
    expect(await consumer.status()).toMatchObject({ position: 605, head: 605, lag: 0 });
    await source.close();
  });

  it('works through a backlog larger than its buffer (the pump pauses and resumes) without losing or doubling', async () => {
    // A producer of its own, with its own outbox and stream.
    const backlogProducer = `${producer}b`;
    await ensureStream(jsm, backlogProducer);
    const database = await createTestDatabase('js_backlog');
    const backlogDb = await openDatabase({ url: database.url, entities: [], migrations: [Outbox1764100000000], applicationName: 'js-backlog', poolSize: 4 });
    const backlogFeed = new OutboxFeed({ producer: backlogProducer, db: backlogDb, logger });
    try {
      const aggregates = Array.from({ length: 20 }, () => randomUUID());
      const rows = Array.from({ length: 2_500 }, (_, i) => ({ aggregateType: 'Member', aggregateId: aggregates[i % 20]!, type: 'Backlog', version: 1, payload: { i } }));
      for (let i = 0; i < rows.length; i += 500) await backlogDb.transaction((tx) => emitEvents(tx, rows.slice(i, i + 500), new Date()));
      await consumerDb.query(`DELETE FROM effects`);
      const relay = new JetStreamRelay(backlogFeed, nats!, jsm, logger);
      while ((await relay.publishOnce()) > 0);
      const source = new JetStreamEventSource(backlogProducer, nats!, jsm);
      const consumer = new EventConsumer({ name: 'js.backlog', db: consumerDb, source, handlers: { Backlog: recordEffect }, clock: systemClock, logger, batchSize: 200 });
      await consumer.register();
      expect(await consumer.drain()).toBe(2_500);
      const [{ n, distinct }] = (await consumerDb.query(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct FROM effects`)) as [{ n: number; distinct: number }];
      expect({ n, distinct }).toEqual({ n: 2_500, distinct: 2_500 });
      await source.close();
    } finally {
      await backlogFeed.close();
      await jsm.streams.delete(streamName(backlogProducer)).catch(() => undefined);
      await backlogDb.destroy();
      await database.drop();
    }
  });
});
