import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { handleCors, type CorsConfig } from './cors';
import { readBody, refuseTooLarge } from './request-body';
import { REQUEST_ID_HEADER } from './viewer';

export interface HttpRequestInfo {
  req: IncomingMessage;
  requestId: string;
}

export interface GraphQLHttpOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  context: (info: HttpRequestInfo) => Promise<TContext>;
  /** Liveness: the process is up. Readiness: it can serve (database reachable, schema loaded). */
  ready: () => Promise<boolean>;
  /** Other endpoints by path (a producer's event feed), served before GraphQL. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>>;
  /** Browser-facing servers only (the gateway): which other origins may call (`cors.ts`). */
  cors?: CorsConfig;
}

/**
 * A plain node:http server around Apollo's `executeHTTPGraphQLRequest`, the documented way to
 * integrate Apollo Server with any HTTP layer. Serves GraphQL on `/` and `/graphql`, plus
 * `/health` and `/ready`. No framework: nothing to configure, nothing to slow the hot path.
 */
export function createGraphQLHttpServer<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>): Server {
  const server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'Internal server error' }] }));
      process.stderr.write(`unhandled HTTP error: ${String(error)}\n`);
    });
  });
  // Keep-alive longer than typical load balancers so they, not we, close idle connections.
  server.keepAliveTimeout = 65_000;
  return server;
}

async function handle<TContext extends BaseContext>(
  options: GraphQLHttpOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headerId = req.headers[REQUEST_ID_HEADER];
  const requestId = typeof headerId === 'string' && /^[\w.:-]{1,100}$/.test(headerId) ? headerId : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, requestId);
  if (options.cors && handleCors(options.cors, req, res)) return;

  if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
  if (url.pathname === '/ready') {
    const ok = await options.ready().catch(() => false);
    return json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable' });
  }
  const route = options.routes?.[url.pathname];
  if (route) return route(req, res, url);
  if (url.pathname !== '/' && url.pathname !== '/graphql') return json(res, 404, { error: 'not found' });

  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  let body: unknown = undefined;
  if (req.method === 'POST') {
    const raw = await readBody(req);
    if (raw === null) return refuseTooLarge(req, res);
    if ((headers.get('content-type') ?? '').includes('application/json')) {
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        return json(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      }
    } else {
      body = raw;
    }
  }

  const result = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method?.toUpperCase() ?? 'GET', headers, search: url.search, body },
    context: () => options.context({ req, requestId }),
  });
  for (const [key, value] of result.headers) res.setHeader(key, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

/** Listens and returns the URL; port 0 picks a free port (tests). */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve(`http://${host}:${address.port}/graphql`);
    });
  });
}

export interface RunningGraphQLServer {
  url: string;
  httpServer: Server;
  /** Graceful: stops listening, finishes in-flight requests, closes idle sockets. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The lifecycle every service shares (gateway and subgraphs): HTTP server, drain on shutdown,
 * start Apollo, listen. Port 0 picks a free port (tests).
 */
export async function serveGraphQL<TContext extends BaseContext>(
  options: GraphQLHttpOptions<TContext> & { port: number; host: string },
): Promise<RunningGraphQLServer> {
  const httpServer = createGraphQLHttpServer(options);
  options.apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer }));
  await options.apollo.start();
  const url = await listen(httpServer, options.port, options.host);
  let stopping: Promise<void> | null = null;
  return {
    url,
    httpServer,
    stop() {
      stopping ??= options.apollo.stop();
      return stopping;
    },
  };
}
