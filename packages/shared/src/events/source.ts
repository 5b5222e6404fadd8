import type { IncomingMessage, ServerResponse } from 'node:http';
import { createViewerSigner, createViewerVerifier, serviceViewer, VIEWER_HEADER } from '../viewer';
import type { FeedBatch, ReadOptions } from './envelope';

/**
 * Where a consumer reads a producer's events from. The default transport is the producer's own
 * HTTP feed over its outbox (PostgreSQL only, nothing else to run). A broker adapter (NATS
 * JetStream: the relay publishes each numbered event to a stream and the stream sequence is the
 * position) implements the same two methods; consumers do not change.
 */
export interface EventSource {
  readonly producer: string;
  /** Events after `after`, oldest first, at most `limit`; waits up to `waitMs` when there are none. */
  read(after: number, limit: number, waitMs: number, options?: ReadOptions): Promise<FeedBatch>;
}

/** The path every producer serves its feed on, next to /graphql. */
export const FEED_PATH = '/events';
const MAX_LIMIT = 1_000;
const MAX_WAIT_MS = 25_000;

/**
 * Serves a producer's feed over HTTP to other services: `GET /events?after=N&limit=M&waitMs=W`,
 * only with a service's signed internal token (the gateway never routes here).
 */
export function feedHandler(source: EventSource, internalSecret: string) {
  const verify = createViewerVerifier(internalSecret);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const token = req.headers[VIEWER_HEADER];
    const viewer = typeof token === 'string' ? await verify(token).catch(() => null) : null;
    if (viewer?.kind !== 'SERVICE') return reply(res, 401, { error: 'the event feed is for services with an internal token' });
    const after = Number(url.searchParams.get('after') ?? '0');
    const limit = Number(url.searchParams.get('limit') ?? '100');
    const waitMs = Number(url.searchParams.get('waitMs') ?? '0');
    if (!Number.isSafeInteger(after) || after < 0) return reply(res, 400, { error: 'after must be a position (an integer ≥ 0)' });
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return reply(res, 400, { error: `limit must be 1 to ${MAX_LIMIT}` });
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) return reply(res, 400, { error: `waitMs must be 0 to ${MAX_WAIT_MS}` });
    const types = url.searchParams.get('types')?.split(',').filter(Boolean);
    // A consumer that hangs up stops the wait for it.
    const hangUp = new AbortController();
    res.on('close', () => hangUp.abort());
    const batch = await source.read(after, limit, waitMs, { types, signal: hangUp.signal });
    if (!hangUp.signal.aborted) reply(res, 200, batch);
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * Reads another subgraph's feed over HTTP as a service. The producer's URL is resolved on every
 * read, so a producer that moved (tests restart one on a new port) is found again.
 */
export class HttpEventSource implements EventSource {
  private readonly sign: (viewer: ReturnType<typeof serviceViewer>) => Promise<string>;

  constructor(
    readonly producer: string,
    private readonly graphqlUrl: () => string,
    internalSecret: string,
    private readonly consumerName: string,
  ) {
    this.sign = createViewerSigner(internalSecret);
  }

  async read(after: number, limit: number, waitMs: number, { signal, types }: ReadOptions = {}): Promise<FeedBatch> {
    const url = new URL(FEED_PATH, this.graphqlUrl());
    url.searchParams.set('after', String(after));
    url.searchParams.set('limit', String(limit));
    url.searchParams.set('waitMs', String(waitMs));
    if (types) url.searchParams.set('types', types.join(','));
    const response = await fetch(url, {
      headers: { [VIEWER_HEADER]: await this.sign(serviceViewer(this.consumerName)) },
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(waitMs + 15_000)]) : AbortSignal.timeout(waitMs + 15_000),
    });
    if (!response.ok) throw new Error(`${this.producer} feed answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as FeedBatch;
  }
}
