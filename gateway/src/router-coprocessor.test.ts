import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, createViewerVerifier, VIEWER_HEADER } from '@loyalty-graph/shared';
import { createDevTokenIssuer } from './dev-tokens';
import { edgeFromEnv } from './edge';
import { startPartnersStandIn, type PartnersStandIn } from './partners-stand-in';
import { createRouterCoprocessor, startRouterCoprocessor, type CoprocessorRequest } from './router-coprocessor';

/**
 * The Apollo Router coprocessor's contract, as the router's source defines the protocol
 * (apollo-router src/services/external.rs: Externalizable, Control; plugins/coprocessor: the
 * RouterRequest stage). Payloads here have the shape and field names the router sends.
 */
const internalSecret = randomBytes(32).toString('hex');
const jwtSecret = randomBytes(32).toString('hex');
const env = { INTERNAL_TOKEN_SECRET: internalSecret, JWT_SECRET: jwtSecret, JWT_ISSUER: 'https://idp.test/', JWT_AUDIENCE: 'loyalty-graph' };
const tokens = createDevTokenIssuer({ secret: jwtSecret, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE });
const handle = createRouterCoprocessor(edgeFromEnv(env));
const verify = createViewerVerifier(internalSecret);

/** A RouterRequest payload as the router serialises it (router.request: headers, body, path, method). */
function routerRequest(headers: Record<string, string[]>): CoprocessorRequest {
  return {
    version: 1,
    stage: 'RouterRequest',
    control: 'continue',
    id: '1b19c05fdafc521016df33148ad63c1b',
    headers: { 'content-type': ['application/json'], accept: ['application/json'], ...headers },
    body: '{"query":"{ me { id } }"}',
    context: { entries: {} },
    path: '/',
    method: 'POST',
  };
}

describe('Apollo Router coprocessor, RouterRequest stage', () => {
  it("continues with the caller's verified viewer signed for the subgraphs, keeping the other headers", async () => {
    const token = await tokens.member({ programId: 'p-1', memberId: 'm-1', subject: 'alice' });
    const reply = await handle(routerRequest({ authorization: [`Bearer ${token}`], 'x-request-id': ['ticket-7'] }));
    expect(reply).toMatchObject({ version: 1, stage: 'RouterRequest', id: '1b19c05fdafc521016df33148ad63c1b', control: 'continue' });
    // Serialised exactly as the router's serde expects: `"control":"continue"`.
    expect(JSON.parse(JSON.stringify(reply))).toMatchObject({ control: 'continue' });
    expect(reply.headers).toMatchObject({ 'content-type': ['application/json'], accept: ['application/json'], 'x-request-id': ['ticket-7'] });
    expect(reply.headers![VIEWER_HEADER]).toHaveLength(1);
    expect(await verify(reply.headers![VIEWER_HEADER]![0]!)).toEqual({ ...ANONYMOUS, kind: 'MEMBER', subject: 'alice', programId: 'p-1', memberId: 'm-1' });
    expect(reply.body).toBeUndefined();
  });

  it('signs the anonymous viewer for a caller without a token, and a fresh request id for an unsafe one', async () => {
    const reply = await handle(routerRequest({ 'x-request-id': ['bad id\nInjected: log line'] }));
    expect(reply.control).toBe('continue');
    expect(await verify(reply.headers![VIEWER_HEADER]![0]!)).toEqual(ANONYMOUS);
    expect(reply.headers!['x-request-id']![0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("replaces a viewer header the caller sent, even one signed with the real secret", async () => {
    const staffToken = await tokens.staff({ programId: 'p-1', roles: ['AGENT'], subject: 'bob' });
    const { headers: forged } = await handle(routerRequest({ authorization: [`Bearer ${await tokens.staff({ programId: null, roles: ['ADMIN'], subject: 'root' })}`] }));
    const reply = await handle(routerRequest({ authorization: [`Bearer ${staffToken}`], [VIEWER_HEADER]: forged![VIEWER_HEADER]! }));
    expect(reply.headers![VIEWER_HEADER]).toHaveLength(1);
    expect(await verify(reply.headers![VIEWER_HEADER]![0]!)).toMatchObject({ kind: 'STAFF', subject: 'bob', roles: ['AGENT'] });
    const anonymous = await handle(routerRequest({ [VIEWER_HEADER]: forged![VIEWER_HEADER]! }));
    expect(await verify(anonymous.headers![VIEWER_HEADER]![0]!)).toEqual(ANONYMOUS);
  });

  it('breaks with 401 and a GraphQL error body for an invalid, expired or ambiguous token', async () => {
    const expired = await createDevTokenIssuer({ secret: jwtSecret, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttl: '-1m' }).member({ programId: 'p-1', subject: 'late' });
    const other = await createDevTokenIssuer({ secret: randomBytes(32).toString('hex'), issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE }).member({ programId: 'p-1', subject: 'mallory' });
    const good = await tokens.member({ programId: 'p-1', subject: 'alice' });
    for (const authorization of [['Bearer not-a-jwt'], [`Bearer ${expired}`], [`Bearer ${other}`], ['Basic abc'], [`Bearer ${good}`, `Bearer ${other}`]]) {
      const reply = await handle(routerRequest({ authorization, 'x-request-id': ['t-401'] }));
      expect(JSON.parse(JSON.stringify(reply)), authorization.join()).toMatchObject({ version: 1, stage: 'RouterRequest', id: '1b19c05fdafc521016df33148ad63c1b', control: { break: 401 } });
      // The router parses the body string into the GraphQL response it sends the client.
      const body = JSON.parse(reply.body!) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      expect(reply.headers).toEqual({ 'content-type': ['application/json'], 'x-request-id': ['t-401'] });
    }
  });

  it('refuses what it was not made for: another protocol version, another stage, a payload without headers', async () => {
    await expect(handle({ ...routerRequest({}), version: 2 })).rejects.toThrow(/version 2/);
    await expect(handle({ ...routerRequest({}), stage: 'SubgraphRequest' })).rejects.toThrow(/RouterRequest stage only/);
    const { headers: _, ...headerless } = routerRequest({});
    await expect(handle(headerless)).rejects.toThrow(/no headers/);
  });
});

describe('the edge environment', () => {
  it('refuses to start without an explicit issuer and audience, listing both', () => {
    expect(() => edgeFromEnv({ INTERNAL_TOKEN_SECRET: internalSecret, JWT_SECRET: jwtSecret })).toThrow(/JWT_ISSUER[\s\S]*JWT_AUDIENCE/);
    expect(() => edgeFromEnv({ ...env, JWT_SECRET: undefined })).toThrow(/JWKS_URL/);
    expect(() => edgeFromEnv({ ...env, INTERNAL_TOKEN_SECRET: 'short' })).toThrow(/INTERNAL_TOKEN_SECRET/);
  });
});

describe('Apollo Router coprocessor over HTTP', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await startRouterCoprocessor(edgeFromEnv(env), 0));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body });

  it('answers a RouterRequest call with the JSON reply', async () => {
    const token = await tokens.staff({ programId: 'p-2', roles: ['AGENT'], subject: 'carol' });
    const response = await post(JSON.stringify(routerRequest({ authorization: [`Bearer ${token}`] })));
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { control: unknown; headers: Record<string, string[]> };
    expect(reply.control).toBe('continue');
    expect(await verify(reply.headers[VIEWER_HEADER]![0]!)).toMatchObject({ kind: 'STAFF', programId: 'p-2' });
  });

  it('fails the call (so the router fails the request, closed) on a malformed or foreign payload', async () => {
    expect((await post('{ not json')).status).toBe(400);
    expect((await post(JSON.stringify({ ...routerRequest({}), stage: 'RouterResponse' }))).status).toBe(400);
  });
});

describe('Apollo Router coprocessor, partner API keys (PARTNERS_URL)', () => {
  let partners: PartnersStandIn;
  let handlePartners: ReturnType<typeof createRouterCoprocessor>;
  beforeAll(async () => {
    partners = await startPartnersStandIn(internalSecret);
    handlePartners = createRouterCoprocessor(edgeFromEnv({ ...env, PARTNERS_URL: partners.url }));
  });
  afterAll(() => partners?.stop());

  it('signs the PARTNER viewer a key grants, from X-Api-Key or a bearer credential', async () => {
    const key = partners.issue({ clientId: 'client-7', partnerId: 'partner-7', programId: 'p-1', scopes: ['purchases:write'] });
    for (const headers of [{ 'x-api-key': [key] }, { authorization: [`Bearer ${key}`] }] as Record<string, string[]>[]) {
      const reply = await handlePartners(routerRequest(headers));
      expect(reply.control).toBe('continue');
      expect(await verify(reply.headers![VIEWER_HEADER]![0]!)).toEqual({ ...ANONYMOUS, kind: 'PARTNER', subject: 'client-7', programId: 'p-1', partnerId: 'partner-7', scopes: ['purchases:write'] });
    }
  });

  it('breaks with 401 for an unknown key, 400 for a key and a token, 503 when the partners subgraph is down', async () => {
    const key = partners.issue({ clientId: 'client-8', partnerId: 'partner-8', programId: 'p-1', scopes: [] });
    const token = await tokens.member({ programId: 'p-1', memberId: 'm-1', subject: 'alice' });
    expect(await handlePartners(routerRequest({ 'x-api-key': [`lgp_Unknown1_${'u'.repeat(43)}`] }))).toMatchObject({ control: { break: 401 } });
    expect(await handlePartners(routerRequest({ 'x-api-key': [key], authorization: [`Bearer ${token}`] }))).toMatchObject({ control: { break: 400 } });
    partners.failing = true;
    try {
      const down = await handlePartners(routerRequest({ 'x-api-key': [partners.issue({ clientId: 'client-9', partnerId: 'partner-8', programId: 'p-1', scopes: [] })] }));
      expect(down.control).toEqual({ break: 503 });
      expect(JSON.parse(down.body!)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'partners', retryable: true } }] });
    } finally {
      partners.failing = false;
    }
  });

  it('refuses every key when no partners subgraph is configured', async () => {
    const key = partners.issue({ clientId: 'client-10', partnerId: 'partner-8', programId: 'p-1', scopes: [] });
    expect(await handle(routerRequest({ 'x-api-key': [key] }))).toMatchObject({ control: { break: 401 } });
  });
});
