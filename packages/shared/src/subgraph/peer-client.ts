import { GraphQLError } from 'graphql';
import { peerUnavailable } from '../errors';
import { createViewerSigner, serviceViewer, VIEWER_HEADER } from '../viewer';

/**
 * A direct call to another subgraph as a service (ARCHITECTURE.md: subgraph-to-subgraph calls never
 * go through the gateway). Used where one subgraph must act in another synchronously, such as the
 * catalog holding points in the ledger for a reward order.
 */
export interface PeerClient {
  /** The peer's data; throws `PeerError` when it answered with errors, SUBGRAPH_UNAVAILABLE when it did not answer. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/** The peer answered, with GraphQL errors (its refusal, or its own failure). */
export class PeerError extends Error {
  constructor(
    readonly service: string,
    readonly codes: string[],
    message: string,
  ) {
    super(`${service}: ${message}`);
    this.name = 'PeerError';
  }
}

/** Whether an error means the peer's answer never arrived: what it did is unknown (the caller must find out, or replay). */
export function isPeerUnavailable(error: unknown): boolean {
  return error instanceof GraphQLError && error.extensions['code'] === 'SUBGRAPH_UNAVAILABLE';
}

export function createPeerClient(service: string, url: () => string, caller: string, internalSecret: string, timeoutMs = 10_000): PeerClient {
  const sign = createViewerSigner(internalSecret);
  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      let response: Response;
      try {
        response = await fetch(url(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [VIEWER_HEADER]: await sign(serviceViewer(caller)) },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch {
        // Refused, reset or timed out: for a write, whether it happened is unknown.
        throw peerUnavailable(service);
      }
      // A 5xx (its failure, or a proxy's) leaves the outcome unknown too.
      if (response.status >= 500) throw peerUnavailable(service);
      let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
      try {
        body = (await response.json()) as typeof body;
      } catch {
        throw peerUnavailable(service);
      }
      if (body.errors?.length) {
        throw new PeerError(
          service,
          body.errors.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
          body.errors.map((e) => e.message).join('; '),
        );
      }
      if (!body.data) throw new PeerError(service, ['INTERNAL_SERVER_ERROR'], `answered ${response.status} without data`);
      return body.data;
    },
  };
}
