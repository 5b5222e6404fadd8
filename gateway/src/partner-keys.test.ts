import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer } from '@loyalty-graph/shared';
import { createRequestAuthenticator, type Authenticate } from './auth';
import { cachePartnerGrants, createPartnerKeyResolver, partnerBudget, type PartnerGrant, type ResolvePartnerKey } from './partner-keys';
import { startPartnersStandIn, type PartnersStandIn } from './partners-stand-in';
import { partnersSubgraphUrl } from './server';

const KEY = 'lgp_Ab12Cd34_' + 'x'.repeat(43);
const OTHER_KEY = 'lgp_Zz99Yy88_' + 'y'.repeat(43);
const GRANT: PartnerGrant = { clientId: 'client-1', partnerId: 'partner-1', programId: 'program-1', scopes: ['purchases:write'], expiresAt: null, rateLimitPerMinute: null };
const STAFF: Viewer = { ...ANONYMOUS, kind: 'STAFF', subject: 'staff-1', programId: 'program-1', roles: ['AGENT'] };

/** A JWT authenticator that records what it was given. */
function jwt(): Authenticate & { seen: (string | undefined)[] } {
  const seen: (string | undefined)[] = [];
  return Object.assign(async (authorization: string | undefined) => {
    seen.push(authorization);
    return authorization ? STAFF : ANONYMOUS;
  }, { seen });
}

/** A resolver over a map, counting its calls. */
function resolver(grants: Record<string, PartnerGrant>): ResolvePartnerKey & { calls: number } {
  const resolve = Object.assign(async (key: string) => {
    resolve.calls++;
    return grants[key] ?? null;
  }, { calls: 0 });
  return resolve;
}

describe('createRequestAuthenticator: which header is which credential', () => {
  it('takes X-Api-Key and Authorization: Bearer lgp_… as a partner key, and forwards a PARTNER viewer', async () => {
    const keys = resolver({ [KEY]: GRANT });
    const auth = jwt();
    const authenticate = createRequestAuthenticator({ authenticate: auth, partnerKeys: keys });
    const expected = { kind: 'PARTNER', subject: 'client-1', programId: 'program-1', partnerId: 'partner-1', memberId: null, roles: [], scopes: ['purchases:write'] };
    expect(await authenticate({ apiKey: KEY })).toEqual({ viewer: expected });
    expect(await authenticate({ apiKey: [KEY] })).toEqual({ viewer: expected });
    expect(await authenticate({ authorization: `Bearer ${KEY}` })).toEqual({ viewer: expected });
    expect(await authenticate({ authorization: `bearer  ${KEY}` })).toEqual({ viewer: expected });
    // the JWT verifier never saw a key
    expect(auth.seen).toEqual([]);
  });

  it('leaves JWTs and no credentials to the JWT authenticator', async () => {
    const auth = jwt();
    const authenticate = createRequestAuthenticator({ authenticate: auth, partnerKeys: resolver({}) });
    expect(await authenticate({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' })).toEqual({ viewer: STAFF });
    expect(await authenticate({})).toEqual({ viewer: ANONYMOUS });
    expect(await authenticate({ authorization: null, apiKey: null })).toEqual({ viewer: ANONYMOUS });
    expect(auth.seen).toEqual(['Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', undefined, undefined]);
  });

  it('refuses both headers at once with 400, whichever they hold', async () => {
    const authenticate = createRequestAuthenticator({ authenticate: jwt(), partnerKeys: resolver({ [KEY]: GRANT }) });
    for (const authorization of [`Bearer ${KEY}`, 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig']) {
      await expect(authenticate({ apiKey: KEY, authorization })).rejects.toMatchObject({
        message: 'Send one credential: an X-Api-Key or an Authorization header, not both',
        extensions: { code: 'UNAUTHENTICATED', http: { status: 400 } },
      });
    }
  });

  it('refuses a header sent twice', async () => {
    const authenticate = createRequestAuthenticator({ authenticate: jwt(), partnerKeys: resolver({ [KEY]: GRANT }) });
    await expect(authenticate({ apiKey: [KEY, OTHER_KEY] })).rejects.toMatchObject({ message: 'Send one X-Api-Key header', extensions: { http: { status: 401 } } });
    await expect(authenticate({ authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`] })).rejects.toMatchObject({ message: 'Send one Authorization header' });
  });

  it('refuses malformed keys with 401 without asking the partners subgraph', async () => {
    const keys = resolver({ [KEY]: GRANT });
    const authenticate = createRequestAuthenticator({ authenticate: jwt(), partnerKeys: keys });
    for (const apiKey of ['', 'secret', 'lgp_short_abc', `lgp_Ab12Cd34_${'x'.repeat(19)}`, `lgp_Ab12Cd34_${'x'.repeat(65)}`, `lgp_Ab-2Cd34_${'x'.repeat(43)}`, `LGP_Ab12Cd34_${'x'.repeat(43)}`, `${KEY}, ${OTHER_KEY}`]) {
      await expect(authenticate({ apiKey })).rejects.toMatchObject({ message: 'The API key is invalid, expired or revoked', extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    }
    await expect(authenticate({ authorization: 'Bearer lgp_' })).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    expect(keys.calls).toBe(0);
  });

  it('refuses an unknown key with 401, and every key when no partners subgraph is configured', async () => {
    await expect(createRequestAuthenticator({ authenticate: jwt(), partnerKeys: resolver({}) })({ apiKey: KEY })).rejects.toMatchObject({
      message: 'The API key is invalid, expired or revoked',
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
    await expect(createRequestAuthenticator({ authenticate: jwt() })({ apiKey: KEY })).rejects.toMatchObject({ extensions: { http: { status: 401 } } });
  });

  it('gives a client with rateLimitPerMinute its own budget: that many points, refilled over a minute', async () => {
    const authenticate = createRequestAuthenticator({ authenticate: jwt(), partnerKeys: resolver({ [KEY]: { ...GRANT, rateLimitPerMinute: 120 } }) });
    expect((await authenticate({ apiKey: KEY })).budget).toEqual({ capacity: 120, restoreRate: 2 });
    expect(partnerBudget(GRANT)).toBeUndefined();
    expect(partnerBudget({ ...GRANT, rateLimitPerMinute: 0 })).toBeUndefined();
  });
});

describe('cachePartnerGrants', () => {
  it('remembers grants and misses for 5 seconds per key, then asks again (a revocation applies within 5 s)', async () => {
    let now = Date.parse('2026-11-30T12:00:00Z');
    const grants: Record<string, PartnerGrant> = { [KEY]: GRANT };
    const keys = resolver(grants);
    const cached = cachePartnerGrants(keys, { now: () => now });
    expect(await cached(KEY)).toEqual(GRANT);
    expect(await cached(OTHER_KEY)).toBeNull();
    delete grants[KEY]; // revoked
    now += 4_999;
    expect(await cached(KEY)).toEqual(GRANT);
    expect(await cached(OTHER_KEY)).toBeNull();
    expect(keys.calls).toBe(2);
    now += 1;
    expect(await cached(KEY)).toBeNull();
    expect(keys.calls).toBe(3);
  });

  it('never keeps a grant past its own expiry, nor longer than 5 s whatever it is told', async () => {
    let now = Date.parse('2026-11-30T12:00:00Z');
    const expiring = { ...GRANT, expiresAt: new Date(now + 2_000).toISOString() };
    const keys = resolver({ [KEY]: expiring, [OTHER_KEY]: GRANT });
    const cached = cachePartnerGrants(keys, { now: () => now, ttlMs: 60_000 });
    expect(await cached(KEY)).toEqual(expiring);
    expect(await cached(OTHER_KEY)).toEqual(GRANT);
    now += 2_000;
    // expired: refused even though the resolver (a stale replica, say) still returns it
    expect(await cached(KEY)).toBeNull();
    now += 3_000;
    await cached(OTHER_KEY);
    expect(keys.calls).toBe(4);
  });

  it('keeps at most maxEntries keys, dropping the least recently used', async () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    const keys = resolver({});
    const cached = cachePartnerGrants(keys, { now: () => now, maxEntries: 2 });
    const k = (i: number) => `lgp_0000000${i}_${'z'.repeat(43)}`;
    await cached(k(1));
    await cached(k(2));
    await cached(k(1)); // k(2) is now the least recently used
    await cached(k(3)); // evicts k(2)
    expect(keys.calls).toBe(3);
    await cached(k(1));
    await cached(k(3));
    expect(keys.calls).toBe(3);
    await cached(k(2));
    expect(keys.calls).toBe(4);
  });

  it('does not remember failures, and shares one lookup among concurrent requests for a key', async () => {
    let fail = true;
    let calls = 0;
    const cached = cachePartnerGrants(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (fail) throw new Error('down');
      return GRANT;
    });
    await expect(cached(KEY)).rejects.toThrow('down');
    fail = false;
    const answers = await Promise.all([cached(KEY), cached(KEY), cached(KEY)]);
    expect(answers).toEqual([GRANT, GRANT, GRANT]);
    expect(calls).toBe(2);
  });
});

describe('createPartnerKeyResolver against a stand-in partners subgraph', () => {
  const internalSecret = randomBytes(32).toString('hex');
  let partners: PartnersStandIn;
  beforeAll(async () => {
    partners = await startPartnersStandIn(internalSecret);
  });
  afterAll(() => partners?.stop());

  it('asks apiKeyGrant as a signed SERVICE and returns the grant, or null for an unknown key', async () => {
    const key = partners.issue({ clientId: 'c-9', partnerId: 'pa-9', programId: 'p-9', scopes: ['purchases:read'], rateLimitPerMinute: 30 });
    const resolve = createPartnerKeyResolver({ url: partners.url, internalSecret });
    expect(await resolve(key)).toEqual({ clientId: 'c-9', partnerId: 'pa-9', programId: 'p-9', scopes: ['purchases:read'], expiresAt: null, rateLimitPerMinute: 30 });
    expect(await resolve(KEY)).toBeNull();
    partners.revoke(key);
    expect(await resolve(key)).toBeNull();
  });

  it('is SUBGRAPH_UNAVAILABLE (503, retryable) when the partners subgraph fails, is unreachable or refuses the gateway', async () => {
    const unavailable = { extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'partners', retryable: true, http: { status: 503 } } };
    partners.failing = true;
    await expect(createPartnerKeyResolver({ url: partners.url, internalSecret })(KEY)).rejects.toMatchObject(unavailable);
    partners.failing = false;
    // a gateway with the wrong secret is refused by the subgraph: still "cannot tell", never "no such key"
    await expect(createPartnerKeyResolver({ url: partners.url, internalSecret: randomBytes(32).toString('hex') })(KEY)).rejects.toMatchObject(unavailable);
    await expect(createPartnerKeyResolver({ url: 'http://127.0.0.1:9/graphql', internalSecret })(KEY)).rejects.toMatchObject(unavailable);
  });
});

describe('partnersSubgraphUrl: where the default resolver asks', () => {
  it('is the partners entry of the development list, or its routing URL in the supergraph, or none', () => {
    expect(partnersSubgraphUrl({ subgraphs: [{ name: 'members', url: 'http://m/graphql' }, { name: 'partners', url: 'http://p:4004/graphql' }] })).toBe('http://p:4004/graphql');
    const supergraph = `enum join__Graph {
  LEDGER @join__graph(name: "ledger", url: "http://127.0.0.1:4002/graphql")
  PARTNERS @join__graph(name: "partners", url: "https://partners.internal/graphql")
}`;
    expect(partnersSubgraphUrl({ supergraphSdl: supergraph })).toBe('https://partners.internal/graphql');
    expect(partnersSubgraphUrl({ supergraphSdl: supergraph.replace(/\n {2}PARTNERS.*\n/, '\n') })).toBeNull();
    expect(partnersSubgraphUrl({ subgraphs: [{ name: 'members', url: 'http://m/graphql' }] })).toBeNull();
  });
});
