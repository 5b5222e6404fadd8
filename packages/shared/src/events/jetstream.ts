import { DeliverPolicy, headers, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { Logger } from '../logger';
import type { EventEnvelope, FeedBatch, ReadOptions } from './envelope';
import { runUntilStopped } from './loop';
import type { OutboxFeed } from './outbox';
import type { EventSource } from './source';

/**
 * The NATS JetStream transport, for deployments that outgrow serving feeds from PostgreSQL.
 *
 * One stream per producer (`LG_<PRODUCER>`, subjects `lg.<producer>.<type>`). The producer's relay
 * publishes its numbered outbox in order, each message expecting the stream's last sequence to be
 * its position − 1: the stream sequence *is* the outbox position, so consumers keep their positions
 * and replays when they move between transports, and two relays racing cannot reorder or double
 * anything (the loser's publish is refused and it reads the stream's state again). The message id
 * is the event id, for JetStream's own de-duplication as well.
 */
export function streamName(producer: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}_${producer}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function subjectOf(producer: string, type: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix.toLowerCase()}.${producer}.${type}`;
}

/** One deployment's streams; another prefix keeps another deployment (or a benchmark) apart on one NATS. */
const DEFAULT_PREFIX = 'LG';

/** Creates the producer's stream if it does not exist (any replica may, at start). */
export async function ensureStream(jsm: JetStreamManager, producer: string, prefix = DEFAULT_PREFIX): Promise<void> {
  const name = streamName(producer, prefix);
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({ name, subjects: [`${prefix.toLowerCase()}.${producer}.>`] }).catch(async (error: unknown) => {
      // Another replica created it meanwhile.
      await jsm.streams.info(name).catch(() => Promise.reject(error));
    });
  }
}

const WRONG_LAST_SEQUENCE = 10071;

/** Publishes a producer's outbox to its stream, from wherever the stream ends. */
export class JetStreamRelay {
  private readonly js: JetStreamClient;
  private warnedAhead = false;

  constructor(
    private readonly feed: OutboxFeed,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
    private readonly prefix = DEFAULT_PREFIX,
  ) {
    this.js = nc.jetstream();
  }

  /** Publishes what the stream lacks; returns how many were published (tests, and a loop's step). */
  async publishOnce(waitMs = 0, signal?: AbortSignal): Promise<number> {
    const stream = streamName(this.feed.producer, this.prefix);
    const last = (await this.jsm.streams.info(stream)).state.last_seq;
    const batch = await this.feed.read(last, 500, waitMs, { signal });
    if (batch.head < last && !this.warnedAhead) {
      // Positions would no longer be stream sequences: refuse to publish rather than mislead consumers.
      this.warnedAhead = true;
      this.logger.error('the stream is ahead of this outbox: it belongs to another database (use another NATS_STREAM_PREFIX)', { stream, streamLast: last, outboxHead: batch.head });
    }
    let published = 0;
    for (const event of batch.events) {
      const meta = headers();
      meta.set('Lg-Aggregate-Id', event.aggregateId);
      try {
        await this.js.publish(subjectOf(this.feed.producer, event.type, this.prefix), JSON.stringify(event), { msgID: event.id, expect: { lastSequence: event.position - 1 }, headers: meta });
        published++;
      } catch (error) {
        // Another relay published this position first: start again from the stream's end.
        if ((error as { api_error?: { err_code?: number } }).api_error?.err_code === WRONG_LAST_SEQUENCE) return published;
        throw error;
      }
    }
    return published;
  }

  start(): { stop(): Promise<void> } {
    return runUntilStopped(
      (signal) => this.publishOnce(10_000, signal),
      (error, failures) => this.logger.warn('event relay failed; retrying', { producer: this.feed.producer, failures, error: error instanceof Error ? error.message : String(error) }),
    );
  }

}

interface Cursor {
  /** The position the next read must ask for to continue this consumer. */
  next: number;
  types: string;
  consumer: Consumer;
  messages: ConsumerMessages;
  buffer: EventEnvelope[];
  /** The highest position received from the server. */
  seen: number;
  wake: (() => void) | null;
  /** Resolves the pump when the buffer has room again. */
  room: (() => void) | null;
  failed: unknown;
}

/** Messages held in memory per source before the pump stops taking more from the server. */
const BUFFER = 1_000;

/**
 * Reads a producer's stream as an EventSource. An ordered consumer runs from the asked position
 * (filtered to the asked types) and keeps a small buffer; reads take from it, waiting for the first
 * message when it is empty. A read from elsewhere (a rewind) starts the consumer again there.
 */
export class JetStreamEventSource implements EventSource {
  private cursor: Cursor | null = null;
  private readonly js: JetStreamClient;

  constructor(
    readonly producer: string,
    nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly prefix = DEFAULT_PREFIX,
  ) {
    this.js = nc.jetstream();
  }

  async read(after: number, limit: number, waitMs: number, { types, signal }: ReadOptions = {}): Promise<FeedBatch> {
    const key = (types ?? []).join(',');
    if (!this.cursor || this.cursor.next !== after + 1 || this.cursor.types !== key) await this.restart(after + 1, types);
    const cursor = this.cursor!;
    if (!cursor.buffer.length && waitMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          cursor.wake = null;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal?.addEventListener('abort', done);
        cursor.wake = done;
      });
    }
    if (cursor.failed) {
      this.cursor = null;
      throw cursor.failed;
    }
    // Types the server could not filter (NATS before 2.10 takes one filter subject) are passed over here.
    const wanted = types?.length ? new Set(types) : null;
    const events: EventEnvelope[] = [];
    let scanned = after;
    while (cursor.buffer.length && events.length < limit) {
      const event = cursor.buffer.shift()!;
      scanned = event.position;
      if (!wanted || wanted.has(event.type)) events.push(event);
    }
    cursor.room?.();
    cursor.next = scanned + 1;
    const head = (await this.jsm.streams.info(streamName(this.producer, this.prefix))).state.last_seq;
    if (events.length || scanned > after) return { events, head, scanned };
    // Nothing waits on the server, none is on its way or buffered: everything up to head (read
    // before this check) was looked at, and the position may move past the rest.
    const info = await cursor.consumer.info();
    const caughtUp = !cursor.buffer.length && info.num_pending === 0 && info.delivered.stream_seq <= cursor.seen;
    if (caughtUp && head > after) cursor.next = head + 1;
    return { events, head, scanned: caughtUp ? Math.max(after, head) : after };
  }

  async close(): Promise<void> {
    this.cursor?.messages.stop();
    this.cursor = null;
  }

  private async restart(from: number, types: readonly string[] | undefined): Promise<void> {
    this.cursor?.messages.stop();
    const consumer = await this.js.consumers.get(streamName(this.producer, this.prefix), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
      // One type: the server filters. Several: NATS before 2.10 takes a single filter subject, so read all and filter here.
      ...(types?.length === 1 ? { filterSubjects: subjectOf(this.producer, types[0]!, this.prefix) } : {}),
    });
    const messages = await consumer.consume({ max_messages: 256 });
    const cursor: Cursor = { next: from, types: (types ?? []).join(','), consumer, messages, buffer: [], seen: from - 1, wake: null, room: null, failed: null };
    this.cursor = cursor;
    // The pump: moves messages into the buffer, and stops taking more while it is full.
    void (async () => {
      try {
        for await (const message of messages) {
          cursor.buffer.push(message.json<EventEnvelope>());
          cursor.seen = message.seq;
          cursor.wake?.();
          if (cursor.buffer.length >= BUFFER) await new Promise<void>((resolve) => (cursor.room = resolve));
        }
      } catch (error) {
        cursor.failed = error;
        cursor.wake?.();
      }
    })();
  }
}
