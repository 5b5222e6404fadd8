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

/** One read of a producer's feed: events after the asked position, and the newest position. */
export interface FeedBatch {
  events: EventEnvelope[];
  head: number;
}
