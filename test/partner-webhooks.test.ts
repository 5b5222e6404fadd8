import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { caller, errorCodes } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { signedBy, startReceiver } from '../subgraphs/partners/test/webhook-helpers';

/**
 * Webhooks through the whole graph: a partner's integration subscribes with its own API key at the
 * gateway, records a purchase at its till, and the ledger's PointsAccrued (its outbox, its feed)
 * becomes a signed `purchase.recorded` at the partner's receiver; another partner's purchase does not.
 */
let graph: TestSupergraph;
let p: TestProgram;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key } }`;
const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { code } } }`;
const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code message } } }`;

async function partnerWithKey(name: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(CREATE_PARTNER, {
    input: { idempotencyKey: `hooks-partner-${randomUUID()}`, programId: p.programId, name, category: 'RETAIL' },
  });
  const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(CREATE_CLIENT, {
    input: { idempotencyKey: `hooks-client-${randomUUID()}`, partnerId: createPartner.partner.id, name: 'Till', scopes },
  });
  return { id: createPartner.partner.id, key: createPartnerApiClient.key };
}

beforeAll(async () => {
  graph = await startSupergraph();
  p = await createTestProgram(graph, { name: 'Webhook program' });
  receiver = await startReceiver();
});
afterAll(async () => {
  await graph?.stop();
  await receiver?.stop();
});

it('a partner subscribes with its own key and receives its purchases as signed webhooks; others’ purchases and callers without the scope get nothing', async () => {
  const a = await partnerWithKey('Hook Café', ['PURCHASES_WRITE', 'WEBHOOKS_MANAGE']);
  const b = await partnerWithKey('Hook Fuel', ['PURCHASES_WRITE']);
  const partnerA = caller(graph.gatewayUrl, { 'x-api-key': a.key });
  const partnerB = caller(graph.gatewayUrl, { 'x-api-key': b.key });

  expect(errorCodes(await partnerB.send(CREATE_ENDPOINT, { input: { url: receiver.url, eventTypes: ['PURCHASE_RECORDED'] } }))).toEqual(['FORBIDDEN']);
  const { createWebhookEndpoint } = await partnerA.data<{ createWebhookEndpoint: { endpoint: { id: string }; secret: string; userErrors: unknown[] } }>(CREATE_ENDPOINT, {
    input: { url: receiver.url, eventTypes: ['PURCHASE_RECORDED'] },
  });
  expect(createWebhookEndpoint.userErrors).toEqual([]);

  const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: CARD, value: "HOOK0001" }] }) { member { id } } }`,
    { p: p.programId },
  );
  const memberId = enrollMember.member.id;
  await graph.deliverEvents();
  const basket = { currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'COFFEE', category: 'food', quantity: 1, amount: '25.00' }] };
  const { recordPurchase } = await partnerA.data<{ recordPurchase: { purchase: { id: string; points: number } } }>(RECORD, {
    input: { idempotencyKey: randomUUID(), source: 'till', externalId: 'till-0001', memberId, basket },
  });
  await partnerB.data(RECORD, { input: { idempotencyKey: randomUUID(), source: 'till', externalId: 'till-0002', memberId, basket } });

  await graph.deliverEvents();
  await graph.subgraphs['partners']!.runJobs();

  expect(receiver.received).toHaveLength(1);
  const [delivery] = receiver.received;
  expect(signedBy(createWebhookEndpoint.secret, delivery!)).toBe(true);
  expect(JSON.parse(delivery!.body)).toMatchObject({
    type: 'purchase.recorded',
    data: { purchaseId: recordPurchase.purchase.id, transactionId: 'till-0001', memberId, points: recordPurchase.purchase.points },
  });
});
