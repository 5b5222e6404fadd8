import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, createDevTokenIssuer, startGateway, type RunningGateway } from '@loyalty-graph/gateway';
import { createLogger } from '@loyalty-graph/shared';
import { composeSupergraph, SUBGRAPHS } from '@loyalty-graph/supergraph';
import { bearer, errorCodes, sendOperation, startTestSubgraph } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

describe('gateway in development', () => {
  let graph: TestSupergraph;
  beforeAll(async () => {
    graph = await startSupergraph();
  });
  afterAll(() => graph?.stop());

  it('serves Apollo Sandbox on GET /', async () => {
    const response = await fetch(new URL('/', graph.gatewayUrl), { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('answers liveness and readiness probes', async () => {
    expect((await fetch(new URL('/health', graph.gatewayUrl))).status).toBe(200);
    expect((await fetch(new URL('/ready', graph.gatewayUrl))).status).toBe(200);
  });

  it('refuses batched requests', async () => {
    const response = await fetch(graph.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('blocks simple cross-site GET requests (CSRF prevention)', async () => {
    const response = await fetch(`${graph.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF|preflight/i);
  });

  it('returns the request id it logs with, echoing a caller-supplied one', async () => {
    const response = await sendOperation(graph.gatewayUrl, '{ __typename }', {}, { 'x-request-id': 'support-ticket-42' });
    expect(response.headers.get('x-request-id')).toBe('support-ticket-42');
  });

  it('masks internal errors and gives the request id instead of the cause', async () => {
    const operator = await graph.asOperator();
    // Break the members subgraph's database under it: the failure is internal, not the caller's.
    await graph.subgraphs['members']!.db.query('ALTER TABLE programs RENAME TO programs_gone');
    try {
      const response = await operator.send('{ programs { nodes { id } } }');
      expect(errorCodes(response)).toEqual(['INTERNAL_SERVER_ERROR']);
      const [error] = response.errors!;
      expect(error!.message).toBe('Internal server error');
      expect(error!.extensions?.['requestId']).toBe(response.headers.get('x-request-id'));
      expect(JSON.stringify(response.errors)).not.toMatch(/programs_gone|relation|stack|QueryFailed/i);
    } finally {
      await graph.subgraphs['members']!.db.query('ALTER TABLE programs_gone RENAME TO programs');
    }
  });

  it('rejects a malformed Authorization header with 401', async () => {
    const response = await sendOperation(graph.gatewayUrl, '{ me { id } }', {}, { authorization: 'Basic abc' });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('gateway in production mode', () => {
  let gateway: RunningGateway;
  let stopSubgraph: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const internalSecret = randomBytes(32).toString('hex');
    const jwtSecret = randomBytes(32).toString('hex');
    const members = await startTestSubgraph(SUBGRAPHS.find((s) => s.name === 'members')!, { internalSecret });
    stopSubgraph = members.stop;
    // The committed supergraph, with the routing URL of the subgraph this test started.
    const supergraphSdl = composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: members.url })));
    gateway = await startGateway(
      {
        supergraphSdl,
        authenticate: createAuthenticator({ issuer: 'i', audience: 'a', secret: jwtSecret }),
        internalSecret,
        logger: createLogger('gateway', 'silent'),
        development: false,
      },
      0,
    );
    token = await createDevTokenIssuer({ secret: jwtSecret, issuer: 'i', audience: 'a' }).staff({ programId: null, roles: ['ADMIN'], subject: 'op' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await stopSubgraph?.();
  });

  it('routes operations with the committed supergraph', async () => {
    const response = await sendOperation(gateway.url, '{ programs { nodes { id } } }', {}, bearer(token));
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ programs: { nodes: [] } });
  });

  it('turns introspection off', async () => {
    const response = await sendOperation(gateway.url, '{ __schema { types { name } } }', {}, bearer(token));
    expect(errorCodes(response)).toContain('GRAPHQL_VALIDATION_FAILED');
  });

  it('serves no Sandbox', async () => {
    const response = await fetch(new URL('/', gateway.url), { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/sandbox/i);
  });
});

describe('limits', () => {
  let graph: TestSupergraph;
  beforeAll(async () => {
    graph = await startSupergraph();
  });
  afterAll(() => graph?.stop());

  it('refuses operations nested deeper than 12 levels (the graph has cycles: Program → tiers → program …)', async () => {
    const operator = await graph.asOperator();
    let selection = 'id';
    for (let i = 0; i < 7; i++) selection = `tiers { program { ${selection} } }`;
    const response = await operator.send(`{ programs { nodes { ${selection} } } }`);
    expect(errorCodes(response)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(response.errors?.[0]?.message).toMatch(/at most 12/);
  });

  it('rejects a staff token without a program unless it is a platform operator', async () => {
    const agentEverywhere = await graph.tokens.staff({ programId: null, roles: ['AGENT'], subject: 'roaming-agent' });
    const response = await sendOperation(graph.gatewayUrl, '{ programs { nodes { id } } }', {}, bearer(agentEverywhere));
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects an access token that never expires', async () => {
    // Correctly signed with the gateway's own secret, but with no exp claim.
    const forever = await new SignJWT({ kind: 'staff', roles: ['ADMIN'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('forever')
      .setIssuer(graph.jwt.issuer)
      .setAudience(graph.jwt.audience)
      .sign(new TextEncoder().encode(graph.jwt.secret));
    const response = await sendOperation(graph.gatewayUrl, '{ programs { nodes { id } } }', {}, bearer(forever));
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });
});
