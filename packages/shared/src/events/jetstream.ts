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
  /** The asked types, joined (a read for others starts a new cursor). */
  key: string;
  /** The one type the server filters on, if any. */
  subject: string | null;
  consumer: Consumer | null;
  messages: ConsumerMessages | null;
  buffer: EventEnvelope[];
  /** The highest position received from the server. */
  seen: number;
  /** The pump stopped taking messages because the buffer was full; reads resume it. */
  paused: boolean;
  wake: (() => void) | null;
  failed: unknown;
}

/** Messages held in memory per source; past this the pump stops its consumer and resumes it later. */
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
    if (!this.cursor || this.cursor.next !== after + 1 || this.cursor.key !== key) await this.restart(after + 1, types);
    const cursor = this.cursor!;
    if (cursor.paused && cursor.buffer.length < BUFFER / 2) await this.consume(cursor, cursor.seen + 1);
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
    cursor.next = scanned + 1;
    const stream = streamName(this.producer, this.prefix);
    const head = (await this.jsm.streams.info(stream)).state.last_seq;
    if (events.length || scanned > after || cursor.buffer.length || cursor.paused) return { events, head, scanned };
    // Caught up when everything the source reads, up to head (read before this check), has arrived:
    // with a server filter, up to the last message of that subject (the server skips the rest).
    const last = cursor.subject ? await this.lastOfSubject(stream, cursor.subject) : head;
    const caughtUp = cursor.seen >= Math.min(last, head);
    if (caughtUp && head > after) cursor.next = head + 1;
    return { events, head, scanned: caughtUp ? Math.max(after, head) : after };
  }

  async close(): Promise<void> {
    if (this.cursor) await this.stop(this.cursor);
    this.cursor = null;
  }

  private async restart(from: number, types: readonly string[] | undefined): Promise<void> {
    if (this.cursor) await this.stop(this.cursor);
    const cursor: Cursor = {
      next: from,
      key: (types ?? []).join(','),
      // One type: the server filters. Several: NATS before 2.10 takes a single filter subject, so read all and filter here.
      subject: types?.length === 1 ? subjectOf(this.producer, types[0]!, this.prefix) : null,
      consumer: null,
      messages: null,
      buffer: [],
      seen: from - 1,
      paused: false,
      wake: null,
      failed: null,
    };
    this.cursor = cursor;
    await this.consume(cursor, from);
  }

  /** Starts an ordered consumer at `from` and a pump moving its messages into the cursor's buffer. */
  private async consume(cursor: Cursor, from: number): Promise<void> {
    await this.stop(cursor);
    cursor.paused = false;
    const consumer = await this.js.consumers.get(streamName(this.producer, this.prefix), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
      ...(cursor.subject ? { filterSubjects: cursor.subject } : {}),
    });
    const messages = await consumer.consume({ max_messages: 256 });
    cursor.consumer = consumer;
    cursor.messages = messages;
    void (async () => {
      try {
        for await (const message of messages) {
          cursor.buffer.push(message.json<EventEnvelope>());
          cursor.seen = message.seq;
          cursor.wake?.();
          // Full: stop the consumer outright (the library would keep fetching into its own queue);
          // a read resumes from the next sequence once the buffer has drained.
          if (cursor.buffer.length >= BUFFER) {
            cursor.paused = true;
            messages.stop();
            break;
          }
        }
      } catch (error) {
        cursor.failed = error;
        cursor.wake?.();
      }
    })();
  }

  /** Stops the cursor's consumer and deletes it from the server (it would linger there for minutes). */
  private async stop(cursor: Cursor): Promise<void> {
    cursor.messages?.stop();
    await cursor.consumer?.delete().catch(() => undefined);
    cursor.messages = null;
    cursor.consumer = null;
  }

  private async lastOfSubject(stream: string, subject: string): Promise<number> {
    try {
      return (await this.jsm.streams.getMessage(stream, { last_by_subj: subject })).seq;
    } catch {
      return 0; // no message of that type yet
    }
  }
}
