/**
 * The envelope every domain event travels in, whoever produced it. Producers write it to their
 * outbox in the same transaction as the change; `position` is assigned later, once the event is
 * committed, and is the producer's delivery order (see outbox.ts).
 */
export interface EventEnvelope<TPayload = Record<string, unknown>> {
  /** Globally unique; consumers record it to ignore redeliveries. */
  id: string;
  /** Which subgraph wrote it (`ledger`, `members`). */
  producer: string;
  /** The producer's delivery order: dense, increasing, never reused. */
  position: number;
  aggregateType: string;
  aggregateId: string;
  /** 1, 2, 3… per aggregate, in commit order: consumers can tell a gap or a repeat. */
  aggregateVersion: number;
  type: string;
  /** The payload's schema version; a breaking change to a payload is a new version. */
  version: number;
  payload: TPayload;
  occurredAt: string;
}

/** An event as a producer writes it inside its transaction. */
export interface NewEvent<TPayload = Record<string, unknown>> {
  aggregateType: string;
  aggregateId: string;
  type: string;
  version: number;
  payload: TPayload;
}

/** One read of a producer's feed. */
export interface FeedBatch {
  /** Events after the asked position (of the asked types), oldest first. */
  events: EventEnvelope[];
  /** The producer's newest position. */
  head: number;
  /**
   * How far the read looked: a consumer that applied `events` may move its position here, past
   * events of types it did not ask for.
   */
  scanned: number;
}

/** What a read may narrow down or cancel. */
export interface ReadOptions {
  /** Only these event types (the ones the consumer handles); all when absent. */
  types?: readonly string[];
  signal?: AbortSignal;
}
