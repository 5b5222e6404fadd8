import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { feedHandler, FEED_PATH, type EventEnvelope, type EventSource, type FeedBatch, type ReadOptions } from '@loyalty-graph/shared/events';

/** What a receiver does with the next request. */
export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  receivedAt: number;
}

/**
 * A real HTTP receiver on a free port, as a partner runs one: it answers 204, or 500 with an error
 * page, or hangs (never answers) until the test switches it back. Records every request it got.
 */
export async function startReceiver(): Promise<{ url: string; received: Received[]; mode: ReceiverMode; delayMs: number; stop(): Promise<void> }> {
  const received: Received[] = [];
  const state = { mode: 'ok' as ReceiverMode, delayMs: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = (name: keyof IncomingHttpHeaders) => String(req.headers[name] ?? '');
      received.push({ id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
      if (state.mode === 'hang') return;
      if (state.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(`<html><body>Internal Server Error ${'x'.repeat(1_000)}</body></html>`);
        return;
      }
      // A slow receiver keeps a batch in flight (the chaos test kills the deliverer then).
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    get mode() {
      return state.mode;
    },
    set mode(mode: ReceiverMode) {
      state.mode = mode;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A producer's feed served from memory over the real feed protocol (`GET /events`, a service
 * token): the partners subgraph's consumers read it exactly as they read the ledger's, the
 * catalog's or members', without starting those subgraphs.
 */
export class MemoryFeed implements EventSource {
  readonly events: EventEnvelope[] = [];
  private versions = new Map<string, number>();

  constructor(readonly producer: string) {}

  /** Appends an event; returns its envelope (its id is what a message id is derived from). */
  add(type: string, aggregateId: string, payload: Record<string, unknown>): EventEnvelope {
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
      occurredAt: new Date().toISOString(),
    };
    this.events.push(event);
    return event;
  }

  async read(after: number, limit: number, _waitMs: number, options: ReadOptions = {}): Promise<FeedBatch> {
    const slice = this.events.filter((e) => e.position > after).slice(0, limit);
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

/**
 * Whether a delivery carries a valid v1 signature by `secret`, computed by the standardwebhooks
 * library (an independent implementation of the convention), at the delivery's own timestamp.
 */
export function signedBy(secret: string, r: Pick<Received, 'id' | 'timestamp' | 'signature' | 'body'>): boolean {
  return r.signature.split(' ').includes(new Webhook(secret).sign(r.id, new Date(Number(r.timestamp) * 1000), r.body));
}
