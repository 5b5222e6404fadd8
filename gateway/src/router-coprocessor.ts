/**
 * Apollo Router in front of our subgraphs: an external coprocessor (Apollo's JSON protocol,
 * version 1) at the RouterRequest stage that does what our gateway does per request, with our
 * code: verify the caller's JWT or partner key (createRequestAuthenticator) and put our signed viewer (x-lg-viewer,
 * createViewerSigner) and the request id on the request, which the router then propagates to
 * every subgraph (docs/deployment.md has the router.yaml). Apollo Router cannot run here, so the
 * contract is tested against the protocol as its source defines it (Externalizable, Control).
 *
 *   router → coprocessor  { version: 1, stage: "RouterRequest", id, control: "continue", headers: { name: [values] }, … }
 *   coprocessor → router  the same, with headers replaced and control "continue",
 *                         or control { break: 401 } and a GraphQL error body: the router answers the client with it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createViewerSigner, REQUEST_ID_HEADER, requestIdFrom, VIEWER_HEADER } from '@loyalty-graph/shared';
import { createRequestAuthenticator } from './auth';
import type { EdgeAuth } from './edge';

/** The only protocol version Apollo Router speaks (EXTERNALIZABLE_VERSION). */
const PROTOCOL_VERSION = 1;

/** Header maps as the router sends them: lower-case names, every value of a repeated header. */
export type CoprocessorHeaders = Record<string, string[]>;

export interface CoprocessorRequest {
  version: number;
  stage: string;
  id?: string;
  control?: unknown;
  headers?: CoprocessorHeaders;
  [field: string]: unknown;
}

export interface CoprocessorResponse {
  version: typeof PROTOCOL_VERSION;
  stage: 'RouterRequest';
  /** Echoed: a different id makes the router treat the call as failed. */
  id?: string;
  control: 'continue' | { break: number };
  headers?: CoprocessorHeaders;
  /** On break at this stage, a string the router parses as the GraphQL response it sends. */
  body?: string;
}

/** A payload this coprocessor does not handle: answered 400, which fails the client request (closed). */
export class CoprocessorProtocolError extends Error {
  override name = 'CoprocessorProtocolError';
}

/** The RouterRequest handler: one verified caller in, the headers the subgraphs trust out. */
export function createRouterCoprocessor(options: EdgeAuth) {
  const sign = createViewerSigner(options.internalSecret);
  const authenticate = createRequestAuthenticator({ authenticate: options.authenticate, partnerKeys: options.partnerKeys ?? null });
  return async function handle(payload: CoprocessorRequest): Promise<CoprocessorResponse> {
    if (payload.version !== PROTOCOL_VERSION) throw new CoprocessorProtocolError(`unsupported protocol version ${String(payload.version)}`);
    if (payload.stage !== 'RouterRequest') throw new CoprocessorProtocolError(`configure this coprocessor for the RouterRequest stage only, not ${String(payload.stage)}`);
    // Without the headers there is no caller to verify: the router must send them (router.request.headers: true).
    if (!payload.headers) throw new CoprocessorProtocolError('the RouterRequest payload has no headers');
    const reply = { version: PROTOCOL_VERSION as typeof PROTOCOL_VERSION, stage: 'RouterRequest' as const, ...(payload.id === undefined ? {} : { id: payload.id }) };

    const requestId = requestIdFrom(payload.headers[REQUEST_ID_HEADER]?.[0]);
    let viewer;
    try {
      // Two Authorization (or X-Api-Key) headers are ambiguous: which would the subgraphs' viewer be? Refused.
      // (Partner budgets are the router's own rate limiting here: this coprocessor only authenticates.)
      ({ viewer } = await authenticate({ authorization: payload.headers['authorization'], apiKey: payload.headers['x-api-key'] }));
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const status = (error.extensions['http'] as { status?: number } | undefined)?.status ?? 401;
      return {
        ...reply,
        control: { break: status },
        headers: { 'content-type': ['application/json'], [REQUEST_ID_HEADER]: [requestId] },
        // A partners subgraph that cannot answer is 503 SUBGRAPH_UNAVAILABLE, retryable: said so.
        body: JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions['code'] ?? 'UNAUTHENTICATED', ...(error.extensions['retryable'] ? { service: error.extensions['service'], retryable: true } : {}) } }] }),
      };
    }
    // The client's headers go on unchanged except ours: whatever x-lg-viewer it sent is replaced.
    const headers: CoprocessorHeaders = { ...payload.headers, [VIEWER_HEADER]: [await sign(viewer)], [REQUEST_ID_HEADER]: [requestId] };
    return { ...reply, control: 'continue', headers };
  };
}

/** The coprocessor as the HTTP endpoint the router's `coprocessor.url` points at. */
export async function startRouterCoprocessor(options: EdgeAuth, port: number, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const handle = createRouterCoprocessor(options);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CoprocessorRequest;
          const reply = await handle(payload);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
        } catch (error) {
          // A malformed call or a failure of ours: a non-200 makes the router fail the client's
          // request instead of letting it through unauthenticated.
          const status = error instanceof CoprocessorProtocolError || error instanceof SyntaxError ? 400 : 500;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : 'error');
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return { url: `http://${host}:${address.port}/`, server };
}
