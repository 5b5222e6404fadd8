import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Partners through the gateway: a program's admin (or an operator) adds a partner, publishes its
 * agreement and gives it an API client; agents read; members, other programs and anonymous callers
 * are refused; only internal services resolve a key.
 */
let graph: TestSupergraph;
let p: TestProgram;
let other: TestProgram;

const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id name status } userErrors { code field } } }`;
const PUBLISH = `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { agreement { version currency issuePricePerPoint { amount currency } } userErrors { code field } } }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { client { id scopes keys { display } } key userErrors { code field } } }`;
const GRANT = `query($key: String!) { apiKeyGrant(key: $key) { clientId partnerId programId scopes } }`;
const eur = (amount: string) => ({ amount, currency: 'EUR' });

let partnerId: string;
let clientId: string;
let apiKey: string;

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-06-01T10:00:00Z'));
  p = await createTestProgram(graph, { name: 'Coalition program' });
  other = await createTestProgram(graph, { name: 'Other program' });
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(CREATE_PARTNER, {
    input: { idempotencyKey: 'e2e-partner-1', programId: p.programId, name: 'Nordic Fuel', category: 'FUEL' },
  });
  partnerId = createPartner.partner.id;
});
afterAll(() => graph?.stop());

describe('partners through the gateway', () => {
  it('an admin publishes an agreement and creates an API client whose key is shown once; agents read the program’s partners', async () => {
    const { publishPartnerAgreement } = await p.admin.data<{ publishPartnerAgreement: { agreement: unknown; userErrors: unknown[] } }>(PUBLISH, {
      input: { idempotencyKey: 'e2e-agreement-1', partnerId, currency: 'EUR', issuePricePerPoint: eur('0.01'), redemptionPricePerPoint: eur('0.008'), fees: { fixedPerPeriod: eur('10'), perTransaction: eur('0') }, settlementPeriod: 'WEEKLY' },
    });
    expect(publishPartnerAgreement).toEqual({ agreement: { version: 1, currency: 'EUR', issuePricePerPoint: { amount: '0.01', currency: 'EUR' } }, userErrors: [] });

    const input = { idempotencyKey: 'e2e-client-1', partnerId, name: 'Till', scopes: ['PURCHASES_WRITE'] };
    const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { client: { id: string; keys: { display: string }[] }; key: string } }>(CREATE_CLIENT, { input });
    apiKey = createPartnerApiClient.key;
    clientId = createPartnerApiClient.client.id;
    expect(createPartnerApiClient.client.keys).toEqual([{ display: `${apiKey.slice(0, 12)}…` }]);
    const replay = await p.admin.data<{ createPartnerApiClient: { key: string | null } }>(CREATE_CLIENT, { input });
    expect(replay.createPartnerApiClient.key).toBeNull();

    const { program } = await p.agent.data<{ program: { name: string; partners: { name: string; agreement: { version: number } | null }[] } }>(
      `query($id: ID!) { program(id: $id) { name partners { name agreement { version } } } }`,
      { id: p.programId },
    );
    expect(program).toEqual({ name: 'Coalition program', partners: [{ name: 'Nordic Fuel', agreement: { version: 1 } }] });
  });

  it('resolves the key for internal services only', async () => {
    const service = await graph.service('partners');
    const { apiKeyGrant } = await service.data<{ apiKeyGrant: unknown }>(GRANT, { key: apiKey });
    expect(apiKeyGrant).toEqual({ clientId, partnerId, programId: p.programId, scopes: ['purchases:write'] });
    for (const caller of [p.admin, await graph.asOperator()]) expect(errorCodes(await caller.send(GRANT, { key: apiKey }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(GRANT, { key: apiKey }))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses another program’s admin, agents, members and anonymous callers', async () => {
    const input = { idempotencyKey: 'e2e-partner-refused', programId: p.programId, name: 'Refused', category: 'RETAIL' };
    const member: Caller = await graph.asMember(p.programId, null);
    for (const caller of [other.admin, p.agent, member]) expect(errorCodes(await caller.send(CREATE_PARTNER, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(CREATE_PARTNER, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await other.agent.send(`query($id: ID!) { partner(id: $id) { name } }`, { id: partnerId }))).toEqual(['FORBIDDEN']);
    const clients = await other.admin.send(CREATE_CLIENT, { input: { idempotencyKey: 'e2e-client-refused', partnerId, name: 'x', scopes: ['OFFERS_WRITE'] } });
    expect(errorCodes(clients)).toEqual(['FORBIDDEN']);
  });
});

describe('a key made by the partners subgraph, used at the gateway', () => {
  const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } entry { lines { amount account { kind ownerId } } } userErrors { code field } } }`;
  type Recorded = { recordPurchase: { purchase: { points: number } | null; entry: { lines: { amount: number; account: { kind: string; ownerId: string | null } }[] } | null; userErrors: unknown[] } };
  let n = 0;
  const purchase = (memberId: string) => ({
    input: {
      idempotencyKey: `e2e-partner-purchase-${++n}`,
      memberId,
      occurredAt: graph.clock.now().toISOString(),
      source: 'TILL',
      externalId: `till-${n}`,
      basket: { currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'FUEL', category: 'fuel', quantity: 1, amount: '40.00' }] },
    },
  });

  it('records a purchase funded by the partner; a rotated key works through its overlap; a revoked client stops within 5 seconds', async () => {
    const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "driver@example.com" }] }) { member { id } } }`,
      { p: p.programId },
    );
    await graph.deliverEvents();
    const withKey = (key: string) => caller(graph.gatewayUrl, { 'x-api-key': key });
    const { recordPurchase } = await withKey(apiKey).data<Recorded>(RECORD, purchase(enrollMember.member.id));
    expect(recordPurchase.userErrors).toEqual([]);
    expect(recordPurchase.entry!.lines.filter((l) => l.account.kind === 'PARTNER_FUNDING')).toEqual([{ amount: -recordPurchase.purchase!.points, account: { kind: 'PARTNER_FUNDING', ownerId: partnerId } }]);

    const { rotatePartnerApiKey } = await p.admin.data<{ rotatePartnerApiKey: { key: string } }>(
      `mutation($input: RotatePartnerApiKeyInput!) { rotatePartnerApiKey(input: $input) { key userErrors { code } } }`,
      { input: { idempotencyKey: 'e2e-rotate-1', clientId, overlapMinutes: 10 } },
    );
    const next = rotatePartnerApiKey.key;
    for (const key of [apiKey, next]) expect((await withKey(key).data<Recorded>(RECORD, purchase(enrollMember.member.id))).recordPurchase.userErrors).toEqual([]);

    await p.admin.data(`mutation($input: RevokePartnerApiClientInput!) { revokePartnerApiClient(input: $input) { userErrors { code } } }`, { input: { clientId } });
    // The gateway keeps a grant for at most 5 seconds (docs/identity.md): then every replica refuses it.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    for (const key of [apiKey, next]) expect(errorCodes(await withKey(key).send(RECORD, purchase(enrollMember.member.id)))).toEqual(['UNAUTHENTICATED']);
  });
});
