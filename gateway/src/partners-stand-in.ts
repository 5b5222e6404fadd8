/**
 * TESTS ONLY: a stand-in for the partners subgraph's `apiKeyGrant`, until the real subgraph
 * (port 4004) is on this branch. It answers exactly the contract the gateway calls
 *
 *   type Query { apiKeyGrant(key: String!): ApiKeyGrant }   (SERVICE viewers only)
 *
 * over plain node:http, from keys a test adds and revokes, and checks what the real one would:
 * the caller is a SERVICE signed with the internal secret. Not exported from the package, never
 * started outside tests. Once the partners subgraph exists, tests can start it instead.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createViewerVerifier, VIEWER_HEADER } from '@loyalty-graph/shared';
import type { PartnerGrant } from './partner-keys';

export interface PartnersStandIn {
  /** The GraphQL endpoint (`createPartnerKeyResolver({ url })`). */
  url: string;
  /** Issues a key (shaped like the real ones) granting this. */
  issue(grant: Omit<PartnerGrant, 'expiresAt' | 'rateLimitPerMinute'> & Partial<Pick<PartnerGrant, 'expiresAt' | 'rateLimitPerMinute'>>): string;
  revoke(key: string): void;
  /** `apiKeyGrant` lookups answered so far. */
  lookups: number;
  /** Answer 503 (true) or as usual. */
  failing: boolean;
  stop(): Promise<void>;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const base62 = (n: number) => Array.from({ length: n }, () => BASE62[Math.floor(Math.random() * 62)]).join('');

export async function startPartnersStandIn(internalSecret: string): Promise<PartnersStandIn> {
  const verify = createViewerVerifier(internalSecret);
  const grants = new Map<string, PartnerGrant>();
  const state = { lookups: 0, failing: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (state.failing) return reply(503, { errors: [{ message: 'unavailable' }] });
        const token = req.headers[VIEWER_HEADER];
        const viewer = typeof token === 'string' ? await verify(token).catch(() => null) : null;
        if (viewer?.kind !== 'SERVICE') return reply(401, { errors: [{ message: 'SERVICE viewers only', extensions: { code: 'UNAUTHENTICATED' } }] });
        const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables: { key: string } };
        if (!/apiKeyGrant\(key: \$key\)/.test(query)) return reply(400, { errors: [{ message: 'this stand-in answers apiKeyGrant only' }] });
        state.lookups++;
        const grant = grants.get(variables.key) ?? null;
        const expired = grant?.expiresAt && Date.parse(grant.expiresAt) <= Date.now();
        return reply(200, { data: { apiKeyGrant: expired ? null : grant } });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    issue(grant) {
      const key = `lgp_${base62(8)}_${base62(43)}`;
      grants.set(key, { expiresAt: null, rateLimitPerMinute: null, ...grant });
      return key;
    },
    revoke: (key) => void grants.delete(key),
    get lookups() {
      return state.lookups;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
