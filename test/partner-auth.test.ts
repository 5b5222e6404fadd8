import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer } from '@loyalty-graph/shared';
import { createPartnerKeyResolver, type ResolvePartnerKey } from '@loyalty-graph/gateway';
import { caller, errorCodes, sendOperation, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
// The partners subgraph is not on this branch yet: a stand-in answers its apiKeyGrant contract.
import { startPartnersStandIn, type PartnersStandIn } from '../gateway/src/partners-stand-in';

/**
 * Partner API keys through the gateway (docs/identity.md, "Partner API keys"): a key records a
 * purchase its partner funds; scopes, unknown and revoked keys, a partners subgraph that is down,
 * a client's own rate limit, and what a partner may read of other partners' purchases.
 */
let graph: TestSupergraph;
let partners: PartnersStandIn;
let programId: string;
let memberId: string;
let elsewhereMemberId: string;
let agent: Caller;
/** The gateway's grant cache reads this clock. */
let now = Date.now();
const PARTNER_A = randomUUID();
const PARTNER_B = randomUUID();

const RECORD = `mutation($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { purchase { id points } entry { lines { amount account { kind ownerId } } } userErrors { code field } }
}`;
interface Recorded {
  recordPurchase: { purchase: { id: string; points: number } | null; entry: { lines: { amount: number; account: { kind: string; ownerId: string | null } }[] } | null; userErrors: { code: string; field: string | null }[] };
}
const purchase = (over: { memberId?: string; partnerId?: string; idempotencyKey?: string; externalId?: string } = {}) => ({
  input: {
    idempotencyKey: over.idempotencyKey ?? randomUUID(),
    memberId: over.memberId ?? memberId,
    source: 'partner-till',
    externalId: over.externalId ?? randomUUID(),
    basket: { currency: 'EUR', channel: 'PARTNER', ...(over.partnerId ? { partnerId: over.partnerId } : {}), lines: [{ lineId: '1', sku: 'COFFEE', category: 'food', quantity: 1, amount: '25.00' }] },
  },
});
const enroll = async (by: Caller, p: string, email: string) =>
  (await by.data<{ enrollMember: { member: { id: string } } }>(`mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`, { p, e: email })).enrollMember.member.id;
const withKey = (key: string): Caller => caller(graph.gatewayUrl, { 'x-api-key': key });
const issue = (partnerId: string, scopes: string[], more: { rateLimitPerMinute?: number; programId?: string } = {}) =>
  partners.issue({ clientId: randomUUID(), partnerId, programId: more.programId ?? programId, scopes, ...(more.rateLimitPerMinute ? { rateLimitPerMinute: more.rateLimitPerMinute } : {}) });

beforeAll(async () => {
  // The stand-in needs the supergraph's internal secret, so the resolver is made once both run.
  const keys: { resolve?: ResolvePartnerKey } = {};
  graph = await startSupergraph({ gateway: { resolvePartnerKey: (key) => keys.resolve!(key), partnerKeyCache: { now: () => now } } });
  partners = await startPartnersStandIn(graph.internalSecret);
  keys.resolve = createPartnerKeyResolver({ url: partners.url, internalSecret: graph.internalSecret });
  const program = await createTestProgram(graph);
  programId = program.programId;
  agent = program.agent;
  memberId = await enroll(program.agent, programId, 'partner-shopper@example.com');
  const elsewhere = await createTestProgram(graph, { name: 'Elsewhere' });
  elsewhereMemberId = await enroll(elsewhere.agent, elsewhere.programId, 'elsewhere@example.com');
  await graph.deliverEvents();
});
afterAll(async () => {
  await graph?.stop();
  await partners?.stop();
});

describe('a partner key', () => {
  it('records a purchase funded by its partner, in X-Api-Key or as a bearer credential, and sees only its own funding line', async () => {
    const key = issue(PARTNER_A, ['purchases:write']);
    for (const client of [withKey(key), caller(graph.gatewayUrl, { authorization: `Bearer ${key}` })]) {
      const { recordPurchase } = await client.data<Recorded>(RECORD, purchase());
      expect(recordPurchase.userErrors).toEqual([]);
      expect(recordPurchase.purchase?.points).toBe(25);
      // funded by the partner (its PARTNER_FUNDING account), not the program's issuance
      expect(recordPurchase.entry?.lines).toEqual([{ amount: -25, account: { kind: 'PARTNER_FUNDING', ownerId: PARTNER_A } }]);
    }
    // naming itself as the funder is the same thing
    const { recordPurchase } = await withKey(key).data<Recorded>(RECORD, purchase({ partnerId: PARTNER_A }));
    expect(recordPurchase.entry?.lines).toEqual([{ amount: -25, account: { kind: 'PARTNER_FUNDING', ownerId: PARTNER_A } }]);
    // the member's points are there, for the program's staff to see
    const { member } = await agent.data<{ member: { points: { pending: number } } }>(`query($id: ID!) { member(id: $id) { points { pending } } }`, { id: memberId });
    expect(member.points.pending).toBeGreaterThanOrEqual(75);
  });

  it('cannot record a purchase funded by another partner', async () => {
    const response = await withKey(issue(PARTNER_A, ['purchases:write'])).send<Recorded>(RECORD, purchase({ partnerId: PARTNER_B }));
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.data?.recordPurchase ?? null).toBeNull();
  });

  it('without purchases:write is FORBIDDEN, naming the scope', async () => {
    const response = await withKey(issue(PARTNER_A, ['purchases:read', 'members:lookup'])).send(RECORD, purchase());
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.errors?.[0]?.message).toBe('This API key lacks the scope purchases:write');
  });

  it('finds no member of another program: the same answer as an unknown member', async () => {
    const client = withKey(issue(PARTNER_A, ['purchases:write']));
    const elsewhere = await client.data<Recorded>(RECORD, purchase({ memberId: elsewhereMemberId }));
    const unknown = await client.data<Recorded>(RECORD, purchase({ memberId: randomUUID() }));
    expect(elsewhere.recordPurchase).toEqual({ purchase: null, entry: null, userErrors: [{ code: 'MEMBER_NOT_FOUND', field: 'memberId' }] });
    expect(unknown.recordPurchase).toEqual(elsewhere.recordPurchase);
  });

  it('cannot replay another partner’s purchase by its idempotency key or transaction id: the same ones record its own', async () => {
    const idempotencyKey = randomUUID();
    const externalId = randomUUID();
    const original = await withKey(issue(PARTNER_A, ['purchases:write'])).data<Recorded>(RECORD, purchase({ idempotencyKey, externalId }));
    const other = await withKey(issue(PARTNER_B, ['purchases:write'])).data<Recorded>(RECORD, purchase({ idempotencyKey, externalId }));
    expect(other.recordPurchase.userErrors).toEqual([]);
    expect(other.recordPurchase.purchase?.id).not.toBe(original.recordPurchase.purchase?.id);
    expect(other.recordPurchase.entry?.lines).toEqual([{ amount: -25, account: { kind: 'PARTNER_FUNDING', ownerId: PARTNER_B } }]);
  });
});

describe('a partner recording the same purchase at once', () => {
  it('records it once: ten concurrent requests under one idempotency key answer one purchase, and the member earns once', async () => {
    const shopper = await enroll(agent, programId, `concurrent-${randomUUID()}@example.com`);
    await graph.deliverEvents();
    const client = withKey(issue(PARTNER_B, ['purchases:write']));
    const body = purchase({ memberId: shopper });
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.data<Recorded>(RECORD, body)));
    expect(new Set(answers.map((a) => a.recordPurchase.purchase?.id)).size).toBe(1);
    for (const answer of answers) expect(answer.recordPurchase.entry?.lines).toEqual([{ amount: -25, account: { kind: 'PARTNER_FUNDING', ownerId: PARTNER_B } }]);
    const { member } = await agent.data<{ member: { points: { pending: number } } }>(`query($id: ID!) { member(id: $id) { points { pending } } }`, { id: shopper });
    expect(member.points.pending).toBe(25);
  });
});

describe('refused credentials', () => {
  it('an unknown, malformed or doubled key is 401 UNAUTHENTICATED; a malformed one never reaches the partners subgraph', async () => {
    const lookups = partners.lookups;
    const valid = issue(PARTNER_A, ['purchases:write']);
    // (fetch sends a header given twice as one, joined by ", ")
    for (const key of [`lgp_Unknown1_${'k'.repeat(43)}`, 'not-a-key', `lgp_short_${'k'.repeat(43)}`, `${valid}, ${valid}`]) {
      const response = await withKey(key).send(RECORD, purchase());
      expect(response.status).toBe(401);
      expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.errors?.[0]?.message).toContain('The API key is invalid, expired or revoked');
    }
    expect(partners.lookups).toBe(lookups + 1);
  });

  it('a key and a token at once is 400', async () => {
    const token = await graph.tokens.staff({ programId, roles: ['AGENT'], subject: 'agent-and-key' });
    const response = await sendOperation(graph.gatewayUrl, RECORD, purchase(), { 'x-api-key': issue(PARTNER_A, ['purchases:write']), authorization: `Bearer ${token}` });
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('a revoked key stops working within 5 seconds on this replica', async () => {
    const key = issue(PARTNER_A, ['purchases:write']);
    const client = withKey(key);
    await client.data<Recorded>(RECORD, purchase());
    partners.revoke(key);
    const revokedAt = now;
    now = revokedAt + 4_000; // still remembered
    expect((await client.send(RECORD, purchase())).status).toBe(200);
    now = revokedAt + 5_000;
    const refused = await client.send(RECORD, purchase());
    expect(refused.status).toBe(401);
    expect(errorCodes(refused)).toEqual(['UNAUTHENTICATED']);
  });

  it('a partners subgraph that cannot answer is 503 SUBGRAPH_UNAVAILABLE, retryable, never 500; the same key works once it is back', async () => {
    const key = issue(PARTNER_A, ['purchases:write']);
    partners.failing = true;
    try {
      const response = await withKey(key).send(RECORD, purchase());
      expect(response.status).toBe(503);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', service: 'partners', retryable: true });
    } finally {
      partners.failing = false;
    }
    expect((await withKey(key).send(RECORD, purchase())).status).toBe(200);
  });
});

describe('rate limits per API client', () => {
  it('answer 429 with Retry-After and the IETF RateLimit headers on the client’s own budget; another client of the partner is not affected', async () => {
    // 20 points a minute: one recordPurchase fits, a second right after does not
    const limited = withKey(issue(PARTNER_A, ['purchases:write'], { rateLimitPerMinute: 20 }));
    const QUERY = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code } } }`;
    const first = await limited.send(QUERY, purchase());
    expect(first.status).toBe(200);
    expect(first.extensions?.['cost']).toMatchObject({ throttleStatus: { maximumAvailable: 20 } });
    const second = await limited.send(QUERY, purchase());
    expect(second.status).toBe(429);
    expect(errorCodes(second)).toEqual(['RATE_LIMITED']);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(second.headers.get('ratelimit-policy')).toBe('"partner";q=20;w=60');
    expect(second.headers.get('ratelimit')).toMatch(/^"partner";r=\d+;t=\d+$/);
    // the same partner's other client has its own bucket, at the partner default
    const other = await withKey(issue(PARTNER_A, ['purchases:write'])).send(QUERY, purchase());
    expect(other.status).toBe(200);
    expect(other.extensions?.['cost']).toMatchObject({ throttleStatus: { maximumAvailable: 10_000 } });
  });
});

describe('reading purchases back', () => {
  const READ = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Purchase { id points } } }`;
  const partnerViewer = (partnerId: string, scopes: string[]): Viewer => ({ ...ANONYMOUS, kind: 'PARTNER', subject: `client-${partnerId}`, programId, partnerId, scopes });

  it('a partner reads its own purchase by reference, never another partner’s', async () => {
    const { recordPurchase } = await withKey(issue(PARTNER_A, ['purchases:write'])).data<Recorded>(RECORD, purchase());
    const id = recordPurchase.purchase!.id;
    const ledger = graph.subgraphs['ledger']!;
    const own = await (await ledger.as(partnerViewer(PARTNER_A, ['purchases:read']))).send(READ, { r: [{ __typename: 'Purchase', id }] });
    expect(own.errors).toBeUndefined();
    expect(own.data).toEqual({ _entities: [{ id, points: 25 }] });
    for (const viewer of [partnerViewer(PARTNER_B, ['purchases:read']), partnerViewer(PARTNER_A, ['settlement:read'])]) {
      const other = await (await ledger.as(viewer)).send(READ, { r: [{ __typename: 'Purchase', id }] });
      expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    }
  });
});
