import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { feedHandler, FEED_PATH, type EventEnvelope, type EventSource, type FeedBatch, type ReadOptions } from '@loyalty-graph/shared/events';

/**
 * A producer's feed held in memory and served over the real feed protocol (`GET /events`, a
 * service token): a subgraph's consumers read it exactly as they read a real producer's, so a test
 * feeds them events without starting the producing subgraphs.
 */
export class MemoryFeed implements EventSource {
  readonly events: EventEnvelope[] = [];
  private versions = new Map<string, number>();

  /** At most this many events per read, whatever the consumer asks: a producer far ahead of its consumer. */
  pageLimit = Number.POSITIVE_INFINITY;

  constructor(readonly producer: string) {}

  /** Appends an event written at `occurredAt` (now by default); returns its envelope. */
  add(type: string, aggregateId: string, payload: Record<string, unknown>, occurredAt = new Date()): EventEnvelope {
    const version = (this.versions.get(aggregateId) ?? 0) + 1;
    this.versions.set(aggregateId, version);
    const event: EventEnvelope = {
      id: randomUUID(),
      producer: this.producer,
      position: this.events.length + 1,
      aggregateType: 'Member',
      aggregateId,
      aggregateVersion: version,
      type,
      version: 1,
      payload,
      occurredAt: occurredAt.toISOString(),
    };
    this.events.push(event);
    return event;
  }

  async read(after: number, limit: number, _waitMs: number, options: ReadOptions = {}): Promise<FeedBatch> {
    const slice = this.events.filter((e) => e.position > after).slice(0, Math.min(limit, this.pageLimit));
    const events = options.types ? slice.filter((e) => options.types!.includes(e.type)) : slice;
    return { events, head: this.events.length, scanned: slice.at(-1)?.position ?? after };
  }

  /** Serves it on a free port; returns the "GraphQL URL" its consumers are given (the feed is next to it). */
  async serve(internalSecret: string): Promise<{ url: string; stop(): Promise<void> }> {
    const handle = feedHandler(this, internalSecret);
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== FEED_PATH) {
        res.writeHead(404);
        res.end();
        return;
      }
      void handle(req, res, url);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/graphql`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
}
