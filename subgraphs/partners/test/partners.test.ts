import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { seedDemoPartner } from '../src/seed';
import { partnersSubgraph } from '../src/server';

/** The partners subgraph on its own, against real PostgreSQL, called the way the gateway calls it. */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let service: Caller;
let admin: Caller;

const PROGRAM = '00000000-0000-4000-8000-00000000000a';
const OTHER_PROGRAM = '00000000-0000-4000-8000-00000000000b';
const staffOf = (programId: string | null, role: 'ADMIN' | 'AGENT'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: [role], subject: `${role.toLowerCase()}-${programId}` });
const T0 = new Date('2026-06-01T10:00:00Z');
const minutes = (n: number) => n * 60_000;

const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id name category status contacts { name email phone role } program { id } } userErrors { code field message } } }`;
const UPDATE_PARTNER = `mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { partner { id status } userErrors { code field } } }`;
const PUBLISH = `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { agreement { id version effectiveFrom } userErrors { code field message } } }`;
const CLIENT_FIELDS = `id name scopes expiresAt rateLimitPerMinute lastUsedAt revokedAt keys { display createdAt expiresAt revokedAt } partner { id }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { client { ${CLIENT_FIELDS} } key userErrors { code field } } }`;
const ROTATE = `mutation($input: RotatePartnerApiKeyInput!) { rotatePartnerApiKey(input: $input) { client { ${CLIENT_FIELDS} } key userErrors { code field } } }`;
const REVOKE = `mutation($input: RevokePartnerApiClientInput!) { revokePartnerApiClient(input: $input) { client { ${CLIENT_FIELDS} } userErrors { code field } } }`;
const GRANT = `query($key: String!) { apiKeyGrant(key: $key) { clientId partnerId programId scopes expiresAt rateLimitPerMinute } }`;

type Client = { id: string; name: string; scopes: string[]; expiresAt: string | null; lastUsedAt: string | null; revokedAt: string | null; keys: { display: string; expiresAt: string | null; revokedAt: string | null }[] };
type ClientPayload = { client: Client | null; key: string | null; userErrors: { code: string; field: string | null }[] };
type Grant = { clientId: string; partnerId: string; programId: string; scopes: string[]; expiresAt: string | null; rateLimitPerMinute: number | null } | null;

let keys = 0;
const key = () => `test-key-${++keys}`;
const eur = (amount: string) => ({ amount, currency: 'EUR' });
const agreement = (partnerId: string, over: Record<string, unknown> = {}) => ({
  idempotencyKey: key(),
  partnerId,
  currency: 'EUR',
  issuePricePerPoint: eur('0.01'),
  redemptionPricePerPoint: eur('0.0075'),
  fees: { fixedPerPeriod: eur('100'), perTransaction: eur('0.05') },
  settlementPeriod: 'MONTHLY',
  ...over,
});

async function createPartner(name: string, programId = PROGRAM, as = admin): Promise<string> {
  const { createPartner } = await as.data<{ createPartner: { partner: { id: string } | null; userErrors: unknown[] } }>(CREATE_PARTNER, { input: { idempotencyKey: key(), programId, name, category: 'FUEL' } });
  expect(createPartner.userErrors).toEqual([]);
  return createPartner.partner!.id;
}

async function createClient(partnerId: string, over: Record<string, unknown> = {}): Promise<{ client: Client; key: string }> {
  const { createPartnerApiClient } = await admin.data<{ createPartnerApiClient: ClientPayload }>(CREATE_CLIENT, {
    input: { idempotencyKey: key(), partnerId, name: 'Till', scopes: ['PURCHASES_WRITE', 'MEMBERS_LOOKUP'], ...over },
  });
  expect(createPartnerApiClient.userErrors).toEqual([]);
  return { client: createPartnerApiClient.client!, key: createPartnerApiClient.key! };
}

const grant = async (apiKey: string) => (await service.data<{ apiKeyGrant: Grant }>(GRANT, { key: apiKey })).apiKeyGrant;

beforeAll(async () => {
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>);
  sub.clock.set(T0);
  service = await sub.as(serviceViewer('gateway'));
  admin = await sub.as(staffOf(PROGRAM, 'ADMIN'));
});
afterAll(() => sub?.stop());

describe('partners', () => {
  it('are created ACTIVE with contacts, unique by name in the program ignoring case, read by agents and through Program.partners', async () => {
    const input = { idempotencyKey: key(), programId: PROGRAM, name: ' Shell Nordic ', category: 'FUEL', contacts: [{ name: 'Ann', email: 'Ann@Example.com', phone: '+45 12 34 56 78', role: 'accounts' }] };
    const { createPartner } = await admin.data<{ createPartner: { partner: Record<string, unknown> } }>(CREATE_PARTNER, { input });
    expect(createPartner.partner).toMatchObject({ name: 'Shell Nordic', category: 'FUEL', status: 'ACTIVE', program: { id: PROGRAM }, contacts: [{ name: 'Ann', email: 'ann@example.com', phone: '+45 12 34 56 78', role: 'accounts' }] });
    const taken = await admin.data<{ createPartner: { partner: null; userErrors: { code: string; field: string }[] } }>(CREATE_PARTNER, { input: { ...input, idempotencyKey: key(), name: 'SHELL NORDIC' } });
    expect(taken.createPartner.userErrors).toEqual([expect.objectContaining({ code: 'PARTNER_NAME_TAKEN', field: 'name' })]);

    const agent = await sub.as(staffOf(PROGRAM, 'AGENT'));
    const { partner } = await agent.data<{ partner: { name: string } }>(`query($id: ID!) { partner(id: $id) { name } }`, { id: createPartner.partner['id'] });
    expect(partner.name).toBe('Shell Nordic');
    const { _entities } = await agent.data<{ _entities: { partners: { name: string }[] }[] }>(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Program { partners { name } } } }`,
      { r: [{ __typename: 'Program', id: PROGRAM }] },
    );
    expect(_entities[0]!.partners.map((p) => p.name)).toContain('Shell Nordic');
  });

  it('refuse malformed input as BAD_USER_INPUT naming the field; an ENDED partner stays ENDED', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `c${i}` }));
    const bad = await admin.send(CREATE_PARTNER, { input: { idempotencyKey: key(), programId: PROGRAM, name: 'Too many', category: 'RETAIL', contacts: many } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.extensions!['field']).toBe('contacts');
    const id = await createPartner('Ending');
    expect((await admin.data<{ updatePartner: { partner: { status: string } } }>(UPDATE_PARTNER, { input: { partnerId: id, status: 'ENDED' } })).updatePartner.partner.status).toBe('ENDED');
    const back = await admin.data<{ updatePartner: { userErrors: { code: string }[] } }>(UPDATE_PARTNER, { input: { partnerId: id, status: 'ACTIVE' } });
    expect(back.updatePartner.userErrors.map((e) => e.code)).toEqual(['PARTNER_ENDED']);
  });

  it('refuse another program’s admin and agents as FORBIDDEN; anonymous callers are refused by @access (members: test/partners.test.ts, through the gateway); operators may', async () => {
    const input = { idempotencyKey: key(), programId: PROGRAM, name: 'Forbidden', category: 'OTHER' };
    expect(errorCodes(await (await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'))).send(CREATE_PARTNER, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staffOf(PROGRAM, 'AGENT'))).send(CREATE_PARTNER, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(ANONYMOUS)).send(CREATE_PARTNER, { input }))).toEqual(['UNAUTHENTICATED']);
    await createPartner('By an operator', PROGRAM, await sub.as(staffOf(null, 'ADMIN')));
  });
});

describe('agreements', () => {
  it('are versions with effective dates: history newest first, the one in force at any time, never edited', async () => {
    const partnerId = await createPartner('Hotel Group');
    const v1 = await admin.data<{ publishPartnerAgreement: { agreement: { version: number } } }>(PUBLISH, { input: agreement(partnerId) });
    expect(v1.publishPartnerAgreement.agreement.version).toBe(1);
    const later = new Date(T0.getTime() + 30 * 86_400_000);
    const v2 = await admin.data<{ publishPartnerAgreement: { agreement: { version: number } } }>(PUBLISH, {
      input: agreement(partnerId, { effectiveFrom: later.toISOString(), issuePricePerPoint: eur('0.012'), settlementPeriod: 'QUARTERLY', prepaidPoints: 500_000 }),
    });
    expect(v2.publishPartnerAgreement.agreement.version).toBe(2);

    const READ = `query($id: ID!, $at: DateTime) { partner(id: $id) { agreements { version effectiveUntil } now: agreement { version issuePricePerPoint { amount currency } fees { fixedPerPeriod { amount } } }
      then: agreement(at: $at) { version settlementPeriod prepaidPoints } before: agreement(at: "2020-01-01T00:00:00Z") { version } } }`;
    const { partner } = await admin.data<{ partner: Record<string, unknown> }>(READ, { id: partnerId, at: later.toISOString() });
    expect(partner['agreements']).toEqual([{ version: 2, effectiveUntil: null }, { version: 1, effectiveUntil: later.toISOString() }]);
    expect(partner['now']).toEqual({ version: 1, issuePricePerPoint: { amount: '0.01', currency: 'EUR' }, fees: { fixedPerPeriod: { amount: '100.00' } } });
    expect(partner['then']).toEqual({ version: 2, settlementPeriod: 'QUARTERLY', prepaidPoints: 500_000 });
    expect(partner['before']).toBeNull();
    await expect(sub.db.query(`UPDATE partner_agreements SET issue_price = 1 WHERE partner_id = $1`, [partnerId])).rejects.toThrow(/never changed/);
  });

  it('refuse mixed currencies, extra decimals, a start in the past or not after the latest', async () => {
    const partnerId = await createPartner('Mixed');
    const field = async (input: Record<string, unknown>) => {
      const res = await admin.send(PUBLISH, { input });
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
      return res.errors![0]!.extensions!['field'];
    };
    expect(await field(agreement(partnerId, { fees: { fixedPerPeriod: { amount: '1', currency: 'USD' }, perTransaction: eur('0') } }))).toBe('fees.fixedPerPeriod.currency');
    expect(await field(agreement(partnerId, { fees: { fixedPerPeriod: eur('1.001'), perTransaction: eur('0') } }))).toBe('fees.fixedPerPeriod.amount');
    expect(await field(agreement(partnerId, { effectiveFrom: new Date(T0.getTime() - 1000).toISOString() }))).toBe('effectiveFrom');
    await admin.data(PUBLISH, { input: agreement(partnerId, { effectiveFrom: new Date(T0.getTime() + 86_400_000).toISOString() }) });
    expect(await field(agreement(partnerId))).toBe('effectiveFrom');
  });
});

describe('API clients', () => {
  it('come with a key shown once: a replay returns the client and key null; lists show the display part only', async () => {
    const partnerId = await createPartner('Key shop');
    const input = { idempotencyKey: key(), partnerId, name: 'Till', scopes: ['SETTLEMENT_READ', 'PURCHASES_WRITE'], rateLimitPerMinute: 600 };
    const first = (await admin.data<{ createPartnerApiClient: ClientPayload }>(CREATE_CLIENT, { input })).createPartnerApiClient;
    expect(first.key).toMatch(/^lgp_[0-9A-Za-z]{8}_[0-9A-Za-z]{43}$/);
    expect(first.client).toMatchObject({ name: 'Till', scopes: ['PURCHASES_WRITE', 'SETTLEMENT_READ'], keys: [{ display: `${first.key!.slice(0, 12)}…`, expiresAt: null, revokedAt: null }] });
    const again = (await admin.data<{ createPartnerApiClient: ClientPayload }>(CREATE_CLIENT, { input })).createPartnerApiClient;
    expect(again.client!.id).toBe(first.client!.id);
    expect(again.key).toBeNull();
    const stored = JSON.stringify(await sub.db.query(`SELECT * FROM partner_api_keys k JOIN idempotency_keys i ON true WHERE k.client_id = $1`, [first.client!.id]));
    expect(stored).not.toContain(first.key!.slice(13));

    const { partner } = await admin.data<{ partner: { apiClients: { id: string }[] } }>(`query($id: ID!) { partner(id: $id) { apiClients { id } } }`, { id: partnerId });
    expect(partner.apiClients.map((c) => c.id)).toEqual([first.client!.id]);
    const agent = await sub.as(staffOf(PROGRAM, 'AGENT'));
    expect(errorCodes(await agent.send(`query($id: ID!) { partner(id: $id) { apiClients { id } } }`, { id: partnerId }))).toEqual(['FORBIDDEN']);
  });

  it('10 concurrent creations with one idempotency key make one client, and one answer carries the key', async () => {
    const partnerId = await createPartner('Concurrent');
    const input = { idempotencyKey: key(), partnerId, name: 'Race', scopes: ['OFFERS_WRITE'] };
    const answers = await Promise.all(Array.from({ length: 10 }, () => admin.data<{ createPartnerApiClient: ClientPayload }>(CREATE_CLIENT, { input })));
    expect(new Set(answers.map((a) => a.createPartnerApiClient.client!.id)).size).toBe(1);
    expect(answers.filter((a) => a.createPartnerApiClient.key !== null)).toHaveLength(1);
    const [{ n }] = (await sub.db.query(`SELECT count(*)::int AS n FROM partner_api_clients WHERE partner_id = $1`, [partnerId])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('refuse agents, another program’s admin and anonymous callers; validate scopes and expiry', async () => {
    const partnerId = await createPartner('Refusals');
    const input = { idempotencyKey: key(), partnerId, name: 'Till', scopes: ['OFFERS_WRITE'] };
    const agentRes = await (await sub.as(staffOf(PROGRAM, 'AGENT'))).send(CREATE_CLIENT, { input });
    expect(errorCodes(agentRes)).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'))).send(CREATE_CLIENT, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(ANONYMOUS)).send(CREATE_CLIENT, { input }))).toEqual(['UNAUTHENTICATED']);
    const noScopes = await admin.send(CREATE_CLIENT, { input: { ...input, scopes: [] } });
    expect(errorCodes(noScopes)).toEqual(['BAD_USER_INPUT']);
    const past = await admin.send(CREATE_CLIENT, { input: { ...input, expiresAt: new Date(T0.getTime() - 1).toISOString() } });
    expect(past.errors![0]!.extensions!['field']).toBe('expiresAt');
  });
});

describe('apiKeyGrant', () => {
  it('grants a valid key its client, partner, program, scope strings, expiry and rate limit', async () => {
    const partnerId = await createPartner('Grant shop');
    const expiresAt = new Date(T0.getTime() + 86_400_000);
    const { client, key: apiKey } = await createClient(partnerId, { expiresAt: expiresAt.toISOString(), rateLimitPerMinute: 120 });
    expect(await grant(apiKey)).toEqual({ clientId: client.id, partnerId, programId: PROGRAM, scopes: ['members:lookup', 'purchases:write'], expiresAt: expiresAt.toISOString(), rateLimitPerMinute: 120 });
  });

  it('answers null for an unknown key, and for a malformed one without a query', async () => {
    const partnerId = await createPartner('Unknown');
    const { key: apiKey } = await createClient(partnerId);
    const unknown = `${apiKey.slice(0, -1)}${apiKey.endsWith('a') ? 'b' : 'a'}`;
    expect(await grant(unknown)).toBeNull();
    sub.statements.reset();
    for (const malformed of ['', 'lgp_short', `${apiKey}x`, apiKey.replace('lgp_', 'sk_')]) expect(await grant(malformed)).toBeNull();
    expect(sub.statements.dataStatements()).toHaveLength(0);
  });

  it('stops a revoked client’s every key', async () => {
    const partnerId = await createPartner('Revoked');
    const { client, key: apiKey } = await createClient(partnerId);
    const { revokePartnerApiClient } = await admin.data<{ revokePartnerApiClient: ClientPayload }>(REVOKE, { input: { clientId: client.id } });
    expect(revokePartnerApiClient.client!.revokedAt).toBe(T0.toISOString());
    expect(revokePartnerApiClient.client!.keys.every((k) => k.revokedAt !== null)).toBe(true);
    expect(await grant(apiKey)).toBeNull();
    const rotate = await admin.data<{ rotatePartnerApiKey: ClientPayload }>(ROTATE, { input: { idempotencyKey: key(), clientId: client.id, overlapMinutes: 0 } });
    expect(rotate.rotatePartnerApiKey.userErrors.map((e) => e.code)).toEqual(['CLIENT_REVOKED']);
  });

  it('keeps the previous key working during a rotation’s overlap, then only the new one', async () => {
    const partnerId = await createPartner('Rotating');
    const { client, key: oldKey } = await createClient(partnerId);
    const input = { idempotencyKey: key(), clientId: client.id, overlapMinutes: 60 };
    const { rotatePartnerApiKey } = await admin.data<{ rotatePartnerApiKey: ClientPayload }>(ROTATE, { input });
    const newKey = rotatePartnerApiKey.key!;
    expect(newKey).not.toBe(oldKey);
    expect(rotatePartnerApiKey.client!.keys.map((k) => k.expiresAt)).toEqual([null, new Date(T0.getTime() + minutes(60)).toISOString()]);
    expect((await admin.data<{ rotatePartnerApiKey: ClientPayload }>(ROTATE, { input })).rotatePartnerApiKey.key).toBeNull();
    try {
      sub.clock.set(new Date(T0.getTime() + minutes(59)));
      expect((await grant(oldKey))?.expiresAt).toBe(new Date(T0.getTime() + minutes(60)).toISOString());
      expect((await grant(newKey))?.clientId).toBe(client.id);
      sub.clock.set(new Date(T0.getTime() + minutes(60)));
      expect(await grant(oldKey)).toBeNull();
      expect((await grant(newKey))?.clientId).toBe(client.id);
    } finally {
      sub.clock.set(T0);
    }
  });

  it('answers null past the client’s expiry, and while its partner is SUSPENDED', async () => {
    const partnerId = await createPartner('Expiring');
    const { key: expiring } = await createClient(partnerId, { expiresAt: new Date(T0.getTime() + minutes(10)).toISOString() });
    const { key: other } = await createClient(partnerId);
    try {
      sub.clock.set(new Date(T0.getTime() + minutes(10)));
      expect(await grant(expiring)).toBeNull();
      expect(await grant(other)).not.toBeNull();
    } finally {
      sub.clock.set(T0);
    }
    await admin.data(UPDATE_PARTNER, { input: { partnerId, status: 'SUSPENDED' } });
    expect(await grant(other)).toBeNull();
    await admin.data(UPDATE_PARTNER, { input: { partnerId, status: 'ACTIVE' } });
    expect(await grant(other)).not.toBeNull();
  });

  it('records lastUsedAt at most once a minute per client', async () => {
    const partnerId = await createPartner('Last used');
    const { client, key: apiKey } = await createClient(partnerId);
    const lastUsed = async () => ((await sub.db.query(`SELECT last_used_at AS at FROM partner_api_clients WHERE id = $1`, [client.id])) as { at: Date | null }[])[0]!.at;
    try {
      await grant(apiKey);
      expect(await lastUsed()).toEqual(T0);
      sub.clock.set(new Date(T0.getTime() + 59_000));
      sub.statements.reset();
      for (let i = 0; i < 5; i++) await grant(apiKey);
      expect(sub.statements.dataStatements().filter((s) => /^\s*UPDATE/i.test(s))).toHaveLength(0);
      expect(await lastUsed()).toEqual(T0);
      sub.clock.set(new Date(T0.getTime() + 61_000));
      await grant(apiKey);
      expect(await lastUsed()).toEqual(new Date(T0.getTime() + 61_000));
    } finally {
      sub.clock.set(T0);
    }
  });

  it('is for internal services only', async () => {
    const partnerId = await createPartner('Service only');
    const { key: apiKey } = await createClient(partnerId);
    for (const viewer of [staffOf(PROGRAM, 'ADMIN'), staffOf(null, 'ADMIN'), { ...ANONYMOUS, kind: 'PARTNER' as const, programId: PROGRAM, partnerId, subject: 'p' }]) {
      expect(errorCodes(await (await sub.as(viewer)).send(GRANT, { key: apiKey }))).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await (await sub.as(ANONYMOUS)).send(GRANT, { key: apiKey }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('the pnpm dev seed', () => {
  it('makes one partner with an agreement, one published offer and one client once, and a new working key at every start (the previous one stops)', async () => {
    const first = await seedDemoPartner(sub.db, sub.clock, OTHER_PROGRAM);
    sub.clock.set(new Date(T0.getTime() + 1000));
    try {
      const second = await seedDemoPartner(sub.db, sub.clock, OTHER_PROGRAM);
      expect(second.partnerId).toBe(first.partnerId);
      expect(second.apiKey).not.toBe(first.apiKey);
      expect(await grant(first.apiKey)).toBeNull();
      expect((await grant(second.apiKey))?.partnerId).toBe(first.partnerId);
      const [{ agreements, clients, offers }] = (await sub.db.query(
        `SELECT (SELECT count(*)::int FROM partner_agreements WHERE partner_id = $1) AS agreements, (SELECT count(*)::int FROM partner_api_clients WHERE partner_id = $1) AS clients,
                (SELECT array_agg(status) FROM offers WHERE partner_id = $1) AS offers`,
        [first.partnerId],
      )) as [{ agreements: number; clients: number; offers: string[] }];
      expect({ agreements, clients, offers }).toEqual({ agreements: 1, clients: 1, offers: ['PUBLISHED'] });
    } finally {
      sub.clock.set(T0);
    }
  });
});
