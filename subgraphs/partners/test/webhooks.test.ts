import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, createLogger, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { WebhookSecretCipher } from '../src/domain/webhook-cipher';
import { messageId, RETRY_DELAYS_MS } from '../src/domain/webhooks';
import { partnersSubgraph } from '../src/server';
import { post, WebhookDeliverer } from '../src/services/webhook-delivery';
import { webhookSettingsFromEnv } from '../src/services/webhook-settings';
import { MemoryFeed } from '@loyalty-graph/testing';
import { signedBy, startReceiver } from './webhook-helpers';

/**
 * Webhooks end to end inside the partners subgraph, against real PostgreSQL and a real HTTP
 * receiver that fails, hangs past the timeout and recovers. Events arrive over the real feed
 * protocol (ledger, catalog and members served from memory; partners' own outbox for statements);
 * time moves with the injected clock, never by sleeping.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000c1';
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000c2';
const HOUR = 3_600_000;

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
// analytics' feed stays empty here: partners reads it (offers' targeting), and consume() drains every consumer.
const feeds = { ledger: new MemoryFeed('ledger'), catalog: new MemoryFeed('catalog'), members: new MemoryFeed('members'), analytics: new MemoryFeed('analytics') };
const stops: (() => Promise<void>)[] = [];

const staff = (programId: string | null): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN'], subject: `admin-${programId}` });
const partnerViewer = (partnerId: string, scopes = ['webhooks:manage'], programId = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'PARTNER', programId, partnerId, subject: `client-${partnerId}`, scopes });

const ENDPOINT_FIELDS = `id url eventTypes enabled disabledAt disabledReason failingSince previousSecretExpiresAt partner { id }`;
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } secret userErrors { code field message } } }`;
const UPDATE = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } userErrors { code field } } }`;
const ROTATE = `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { endpoint { ${ENDPOINT_FIELDS} } secret userErrors { code field } } }`;
const DELETE = `mutation($input: DeleteWebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) { deletedEndpointId userErrors { code field } } }`;
const REPLAY = `mutation($input: ReplayWebhookMessageInput!) { replayWebhookMessage(input: $input) { message { id: webhookId status tries } userErrors { code field } } }`;
const REPLAY_SINCE = `mutation($input: ReplayWebhookMessagesInput!) { replayWebhookMessages(input: $input) { replayed userErrors { code field } } }`;
const MESSAGES = `query($id: ID!, $status: WebhookMessageStatus) { webhookEndpoint(id: $id) { messages(status: $status, first: 100) { nodes { id: webhookId eventType status tries body nextAttemptAt deliveredAt
  attempts(first: 20) { nodes { statusCode error succeeded durationMs responseSnippet } } } } } }`;

type Endpoint = { id: string; url: string; eventTypes: string[]; enabled: boolean; disabledAt: string | null; disabledReason: string | null; failingSince: string | null; previousSecretExpiresAt: string | null };
type Attempt = { statusCode: number | null; error: string | null; succeeded: boolean; durationMs: number; responseSnippet: string | null };
type Message = { id: string; eventType: string; status: string; tries: number; body: string; nextAttemptAt: string | null; deliveredAt: string | null; attempts: { nodes: Attempt[] } };

let partnerCount = 0;
async function createPartner(programId = PROGRAM): Promise<string> {
  const as = await sub.as(staff(programId));
  const { createPartner } = await as.data<{ createPartner: { partner: { id: string } } }>(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`, {
    input: { idempotencyKey: `webhooks-partner-${randomUUID()}`, programId, name: `Hook partner ${++partnerCount}`, category: 'RETAIL' },
  });
  return createPartner.partner.id;
}

async function createEndpoint(partnerId: string, eventTypes: string[] = ['PURCHASE_RECORDED', 'POINTS_REDEEMED'], as?: Caller): Promise<{ endpoint: Endpoint; secret: string }> {
  const by = as ?? (await sub.as(partnerViewer(partnerId)));
  const { createWebhookEndpoint } = await by.data<{ createWebhookEndpoint: { endpoint: Endpoint; secret: string; userErrors: unknown[] } }>(CREATE, { input: { url: receiver.url, eventTypes } });
  expect(createWebhookEndpoint.userErrors).toEqual([]);
  return createWebhookEndpoint;
}

const messagesOf = async (endpointId: string, status?: string) =>
  (await admin.data<{ webhookEndpoint: { messages: { nodes: Message[] } } }>(MESSAGES, { id: endpointId, status })).webhookEndpoint.messages.nodes;

/** Applies the events the feeds hold (the consumers' job), then runs the delivery job once. */
async function consume(): Promise<void> {
  for (const consumer of sub.consumers) await consumer.drain();
}
const deliver = async () => (await sub.runJobs())['webhook-delivery'] ?? 0;

const accrual = (partnerId: string, memberId: string, points = 100, externalId = `tx-${randomUUID()}`) =>
  feeds.ledger.add('PointsAccrued', memberId, {
    programId: PROGRAM,
    memberId,
    purchaseId: randomUUID(),
    points,
    statusPoints: points,
    pending: false,
    occurredAt: sub.clock.now().toISOString(),
    partnerId,
    source: `partner:${partnerId}`,
    externalId,
    entryId: randomUUID(),
  });

const redemption = (partnerId: string, memberId: string) =>
  feeds.catalog.add('RewardRedeemed', memberId, {
    programId: PROGRAM,
    orderId: randomUUID(),
    memberId,
    lineId: randomUUID(),
    rewardId: randomUUID(),
    rewardType: 'PARTNER_SERVICE',
    quantity: 1,
    points: 500,
    cash: null,
    partnerId,
    holdId: randomUUID(),
    redeemedAt: sub.clock.now().toISOString(),
  });


beforeAll(async () => {
  process.env['PARTNERS_WEBHOOK_TIMEOUT_MS'] = '300';
  const internalSecret = randomBytes(32).toString('hex');
  const peers: Record<string, string> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    const served = await feed.serve(internalSecret);
    peers[name] = served.url;
    stops.push(served.stop);
  }
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret, peers });
  // Partners reads its own feed for settlement statements (peer URLs are looked up when used).
  peers['partners'] = sub.url;
  // Real time at the start, so the library's verify() (which checks the timestamp against now) can be used too.
  sub.clock.set(new Date());
  admin = await sub.as(staff(PROGRAM));
  receiver = await startReceiver();
});
afterAll(async () => {
  await sub?.stop();
  await receiver?.stop();
  for (const stop of stops) await stop();
  delete process.env['PARTNERS_WEBHOOK_TIMEOUT_MS'];
});
beforeEach(() => {
  receiver.mode = 'ok';
  receiver.received.length = 0;
});

describe('webhook endpoints', () => {
  it('are created by the partner itself (webhooks:manage) with a whsec_ secret shown once and stored encrypted', async () => {
    const partnerId = await createPartner();
    const { endpoint, secret } = await createEndpoint(partnerId);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiver.url, eventTypes: ['PURCHASE_RECORDED', 'POINTS_REDEEMED'], enabled: true, partner: { id: partnerId } });
    const [row] = (await sub.db.query(`SELECT secret FROM webhook_endpoints WHERE id = $1`, [endpoint.id])) as { secret: Buffer }[];
    expect(row!.secret.includes(Buffer.from(secret))).toBe(false);
    const list = await (await sub.as(partnerViewer(partnerId))).data<{ webhookEndpoints: { id: string }[] }>(`{ webhookEndpoints { id } }`);
    expect(list.webhookEndpoints.map((e) => e.id)).toEqual([endpoint.id]);
    // The program's admins and platform operators may manage them too (naming the partner).
    for (const as of [admin, await sub.as(staff(null))]) {
      const made = await as.data<{ createWebhookEndpoint: { secret: string; userErrors: unknown[] } }>(CREATE, { input: { partnerId, url: receiver.url, eventTypes: ['STATEMENT_CLOSED'] } });
      expect(made.createWebhookEndpoint.userErrors).toEqual([]);
      expect(made.createWebhookEndpoint.secret).not.toBe(secret);
    }
    const noPartner = await admin.send(CREATE, { input: { url: receiver.url, eventTypes: ['STATEMENT_CLOSED'] } });
    expect(errorCodes(noPartner)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuse callers without the scope, other partners, other programs, and malformed input', async () => {
    const partnerId = await createPartner();
    const other = await createPartner();
    const { endpoint } = await createEndpoint(partnerId);
    const input = { url: receiver.url, eventTypes: ['PURCHASE_RECORDED'] };
    expect(errorCodes(await (await sub.as(partnerViewer(partnerId, ['purchases:write']))).send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(partnerViewer(other))).send(CREATE, { input: { ...input, partnerId } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(partnerViewer(other))).send(MESSAGES, { id: endpoint.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(partnerViewer(other))).send(UPDATE, { input: { endpointId: endpoint.id, enabled: false } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staff(OTHER_PROGRAM))).send(DELETE, { input: { endpointId: endpoint.id } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(ANONYMOUS)).send(`{ webhookEndpoints { id } }`))).toEqual(['UNAUTHENTICATED']);
    const as = await sub.as(partnerViewer(partnerId));
    const bad = await as.send(CREATE, { input: { ...input, url: 'ftp://example.com/x' } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.extensions!['field']).toBe('url');
    expect(errorCodes(await as.send(CREATE, { input: { ...input, eventTypes: ['PURCHASE_RECORDED', 'PURCHASE_RECORDED'] } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await as.send(ROTATE, { input: { endpointId: endpoint.id, overlapMinutes: 10_081 } }))).toEqual(['BAD_USER_INPUT']);
    for (let i = 1; i < 10; i++) await createEndpoint(partnerId);
    const tooMany = await as.data<{ createWebhookEndpoint: { userErrors: { code: string }[] } }>(CREATE, { input });
    expect(tooMany.createWebhookEndpoint.userErrors.map((e) => e.code)).toEqual(['TOO_MANY_ENDPOINTS']);
  });
});

describe('webhook delivery', () => {
  it('turns a partner’s events into signed messages for its subscribed endpoints only, once per event, with minimised payloads', async () => {
    const partnerId = await createPartner();
    const other = await createPartner();
    const { endpoint, secret } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    const { endpoint: statements } = await createEndpoint(partnerId, ['STATEMENT_CLOSED']);
    const { endpoint: othersEndpoint } = await createEndpoint(other, ['PURCHASE_RECORDED']);
    const member = randomUUID();
    const event = accrual(partnerId, member, 120, 'till-4711');
    redemption(partnerId, member); // not subscribed by any of the partner's endpoints
    await consume();
    // The same events again (a rewound consumer): processed_events and the unique key make no second message.
    for (const consumer of sub.consumers) await consumer.rewind(0);
    await consume();
    expect(await messagesOf(statements.id)).toEqual([]);
    expect(await messagesOf(othersEndpoint.id)).toEqual([]);
    expect(await deliver()).toBeGreaterThanOrEqual(1);

    const mine = receiver.received.filter((r) => r.id === messageId(endpoint.id, event.id));
    expect(mine).toHaveLength(1);
    const delivery = mine[0]!;
    // Verified by the standardwebhooks library: id, timestamp (now) and HMAC over id.timestamp.body.
    const verified = new Webhook(secret).verify(delivery.body, { 'webhook-id': delivery.id, 'webhook-timestamp': delivery.timestamp, 'webhook-signature': delivery.signature });
    const payload = event.payload as { purchaseId: string; occurredAt: string };
    expect(verified).toEqual({
      type: 'purchase.recorded',
      timestamp: payload.occurredAt,
      data: { purchaseId: payload.purchaseId, transactionId: 'till-4711', memberId: member, points: 120, pending: false, occurredAt: payload.occurredAt },
    });
    const [message] = await messagesOf(endpoint.id);
    expect(message).toMatchObject({ id: delivery.id, eventType: 'PURCHASE_RECORDED', status: 'DELIVERED', tries: 1, body: delivery.body, nextAttemptAt: null });
    expect(message!.attempts.nodes).toEqual([expect.objectContaining({ statusCode: 204, succeeded: true, error: null })]);
  });

  it('retries a receiver that fails and hangs past the timeout, keeps each member’s messages in order, and shows every attempt', async () => {
    const partnerId = await createPartner();
    const { endpoint, secret } = await createEndpoint(partnerId);
    const [ann, bob] = [randomUUID(), randomUUID()];
    const first = accrual(partnerId, ann);
    const second = redemption(partnerId, ann);
    const bobs = accrual(partnerId, bob);
    await consume();

    receiver.mode = 'fail';
    // Ann's second waits behind her first: only the head of each member's queue is tried.
    expect(await deliver()).toBe(2);
    expect(receiver.received.map((r) => r.id).sort()).toEqual([messageId(endpoint.id, first.id), messageId(endpoint.id, bobs.id)].sort());

    receiver.mode = 'hang';
    expect(await deliver()).toBe(0); // not due before its backoff
    sub.clock.advance(RETRY_DELAYS_MS[0] * 1.2);
    expect(await deliver()).toBe(2); // both time out (300 ms here; 15 s by default)

    receiver.mode = 'ok';
    sub.clock.advance(RETRY_DELAYS_MS[1] * 1.2);
    await deliver();
    const annIds = receiver.received.filter((r) => [first.id, second.id].map((id) => messageId(endpoint.id, id)).includes(r.id)).map((r) => r.id);
    // Ann's: two failed tries of the first, its delivery, then the second; never the second before the first.
    expect(annIds).toEqual([messageId(endpoint.id, first.id), messageId(endpoint.id, first.id), messageId(endpoint.id, first.id), messageId(endpoint.id, second.id)]);
    for (const r of receiver.received) expect(signedBy(secret, r)).toBe(true);

    const messages = await messagesOf(endpoint.id);
    expect(messages.map((m) => m.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
    const annsFirst = messages.find((m) => m.id === messageId(endpoint.id, first.id))!;
    expect(annsFirst.tries).toBe(3);
    expect(annsFirst.attempts.nodes.map((a) => [a.statusCode, a.succeeded])).toEqual([
      [204, true],
      [null, false],
      [500, false],
    ]);
    expect(annsFirst.attempts.nodes[1]!.error).toMatch(/timed out after 300 ms/);
    expect(annsFirst.attempts.nodes[2]).toMatchObject({ error: 'HTTP 500' });
    expect(annsFirst.attempts.nodes[2]!.responseSnippet!.length).toBeLessThanOrEqual(501);
    expect(annsFirst.attempts.nodes[2]!.responseSnippet).toContain('Internal Server Error');
  });

  it('dead-letters after the last try (about three days), disables an endpoint failing for 5 days and says why; enabling it again sends what waited', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    receiver.mode = 'fail';
    const started = sub.clock.now().getTime();
    const doomed = accrual(partnerId, randomUUID());
    await consume();
    // Each retry exactly when it is due: the schedule's own timing, not the test's steps.
    for (let i = 0; i < 20; i++) {
      await deliver();
      const [pending] = await messagesOf(endpoint.id, 'PENDING');
      if (!pending) break;
      sub.clock.set(new Date(pending.nextAttemptAt!));
    }
    const [dead] = await messagesOf(endpoint.id, 'FAILED');
    expect(dead).toMatchObject({ id: messageId(endpoint.id, doomed.id), tries: 11, nextAttemptAt: null });
    expect(dead!.attempts.nodes).toHaveLength(11);
    const span = receiver.received.length;
    expect(span).toBe(11);
    // About three days from the first try to the last, measured on the deliveries' own timestamps.
    const hours = (Number(receiver.received.at(-1)!.timestamp) - Number(receiver.received[0]!.timestamp)) / 3_600;
    expect(hours).toBeGreaterThan(60);
    expect(hours).toBeLessThan(80);
    let endpointNow = (await admin.data<{ webhookEndpoint: Endpoint }>(`query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id })).webhookEndpoint;
    expect(endpointNow.enabled).toBe(true); // dead, but not yet 5 days of failures

    const waiting = accrual(partnerId, randomUUID());
    await consume();
    while (sub.clock.now().getTime() - started < 6 * 24 * HOUR) {
      await deliver();
      sub.clock.advance(6 * HOUR);
    }
    await deliver();
    endpointNow = (await admin.data<{ webhookEndpoint: Endpoint }>(`query($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id })).webhookEndpoint;
    expect(endpointNow.enabled).toBe(false);
    expect(endpointNow.disabledReason).toMatch(/Every delivery failed since .* disabled automatically after 5 days/);
    // Failing since the very first failed attempt.
    expect(Math.floor(new Date(endpointNow.failingSince!).getTime() / 1000)).toBe(Number(receiver.received[0]!.timestamp));
    // Disabled: nothing more is tried, and new events make no messages for it.
    const tried = receiver.received.length;
    accrual(partnerId, randomUUID());
    await consume();
    sub.clock.advance(HOUR);
    await deliver();
    expect(receiver.received.length).toBe(tried);
    expect((await messagesOf(endpoint.id)).length).toBe(2);

    receiver.mode = 'ok';
    const { updateWebhookEndpoint } = await (await sub.as(partnerViewer(partnerId))).data<{ updateWebhookEndpoint: { endpoint: Endpoint } }>(UPDATE, { input: { endpointId: endpoint.id, enabled: true } });
    expect(updateWebhookEndpoint.endpoint).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null, failingSince: null });
    sub.clock.advance(16 * HOUR);
    await deliver();
    expect(receiver.received.at(-1)!.id).toBe(messageId(endpoint.id, waiting.id));
    expect((await messagesOf(endpoint.id, 'DELIVERED')).map((m) => m.id)).toEqual([messageId(endpoint.id, waiting.id)]);
  });

  it('replays one message, or everything since a time, under the same webhook-id; replaying twice before it goes out is one delivery', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    const member = randomUUID();
    const early = accrual(partnerId, member);
    await consume();
    await deliver();
    sub.clock.advance(HOUR);
    const since = sub.clock.now();
    const late = [accrual(partnerId, member), accrual(partnerId, randomUUID())];
    await consume();
    await deliver();
    expect(receiver.received).toHaveLength(3);

    const as = await sub.as(partnerViewer(partnerId));
    const id = messageId(endpoint.id, early.id);
    for (let i = 0; i < 2; i++) {
      const { replayWebhookMessage } = await as.data<{ replayWebhookMessage: { message: { id: string; status: string; tries: number } } }>(REPLAY, { input: { webhookId: id } });
      expect(replayWebhookMessage.message).toEqual({ id, status: 'PENDING', tries: 0 });
    }
    await deliver();
    expect(receiver.received.slice(3).map((r) => r.id)).toEqual([id]);
    expect(receiver.received[3]!.body).toBe(receiver.received[0]!.body);

    const { replayWebhookMessages } = await as.data<{ replayWebhookMessages: { replayed: number } }>(REPLAY_SINCE, { input: { endpointId: endpoint.id, since: since.toISOString() } });
    expect(replayWebhookMessages.replayed).toBe(2);
    await deliver();
    expect(receiver.received.slice(4).map((r) => r.id).sort()).toEqual(late.map((e) => messageId(endpoint.id, e.id)).sort());
    expect(errorCodes(await as.send(REPLAY_SINCE, { input: { endpointId: endpoint.id, since: new Date(sub.clock.now().getTime() + HOUR).toISOString() } }))).toEqual(['BAD_USER_INPUT']);
    const unknown = await as.data<{ replayWebhookMessage: { userErrors: { code: string }[] } }>(REPLAY, { input: { webhookId: 'msg_00000000000000000000000000000000' } });
    expect(unknown.replayWebhookMessage.userErrors.map((e) => e.code)).toEqual(['MESSAGE_NOT_FOUND']);
  });

  it('signs with both secrets during a rotation’s overlap, then with the new one only', async () => {
    const partnerId = await createPartner();
    const { endpoint, secret: old } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    const { rotateWebhookSecret } = await (await sub.as(partnerViewer(partnerId))).data<{ rotateWebhookSecret: { endpoint: Endpoint; secret: string } }>(ROTATE, {
      input: { endpointId: endpoint.id, overlapMinutes: 60 },
    });
    const fresh = rotateWebhookSecret.secret;
    expect(fresh).not.toBe(old);
    expect(rotateWebhookSecret.endpoint.previousSecretExpiresAt).not.toBeNull();
    accrual(partnerId, randomUUID());
    await consume();
    await deliver();
    const during = receiver.received.at(-1)!;
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(signedBy(old, during) && signedBy(fresh, during)).toBe(true);

    sub.clock.advance(61 * 60_000);
    accrual(partnerId, randomUUID());
    await consume();
    await deliver();
    const after = receiver.received.at(-1)!;
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(signedBy(fresh, after)).toBe(true);
    expect(signedBy(old, after)).toBe(false);
  });

  it('delivers statements closed (partners’ own events), enrolments through the partner, and tier changes of members sharing their data with partners only; deleting an endpoint stops it', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['STATEMENT_CLOSED', 'MEMBER_ENROLLED', 'MEMBER_TIER_CHANGED']);
    const now = sub.clock.now().toISOString();
    const statementId = randomUUID();
    await sub.db.transaction((tx) =>
      emit(tx, partnersEvents, [{ type: 'SettlementStatementClosed', payload: { programId: PROGRAM, partnerId, statementId, periodStart: now, periodEnd: now, currency: 'EUR', netAmount: '12.50', closedAt: now } }], sub.clock.now()),
    );
    const member = randomUUID();
    feeds.members.add('MemberEnrolled', member, { programId: PROGRAM, memberId: member, channel: 'PARTNER', referralId: null, enrolledAt: now, partnerId });
    feeds.members.add('MemberEnrolled', randomUUID(), { programId: PROGRAM, memberId: randomUUID(), channel: 'AGENT', referralId: null, enrolledAt: now });
    feeds.members.add('TierChanged', member, { programId: PROGRAM, memberId: member, fromTierId: null, toTierId: randomUUID(), direction: 'UP', reason: 'QUALIFIED', changedAt: now });
    // A member who shares their data with partners (on any channel): their tier change goes out; the
    // first member never consented, and one who withdrew consent before the change is not told either.
    const sharing = randomUUID();
    const withdrawn = randomUUID();
    for (const id of [sharing, withdrawn]) feeds.members.add('MemberEnrolled', id, { programId: PROGRAM, memberId: id, channel: 'AGENT', referralId: null, enrolledAt: now, tierId: null });
    feeds.members.add('ConsentsChanged', sharing, { programId: PROGRAM, memberId: sharing, consents: [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true }], changedAt: now });
    feeds.members.add('ConsentsChanged', withdrawn, { programId: PROGRAM, memberId: withdrawn, consents: [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true }], changedAt: now });
    feeds.members.add('ConsentsChanged', withdrawn, { programId: PROGRAM, memberId: withdrawn, consents: [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: false }], changedAt: now });
    const toTierId = randomUUID();
    for (const id of [sharing, withdrawn]) feeds.members.add('TierChanged', id, { programId: PROGRAM, memberId: id, fromTierId: null, toTierId, direction: 'UP', reason: 'QUALIFIED', changedAt: now });
    await consume();
    await deliver();
    const bodies = receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(bodies.map((b) => b.type).sort()).toEqual(['member.enrolled', 'member.tier_changed', 'statement.closed']);
    expect(bodies.find((b) => b.type === 'member.tier_changed')!.data).toMatchObject({ memberId: sharing, toTierId });
    expect(bodies.find((b) => b.type === 'statement.closed')!.data).toMatchObject({ statementId, netAmount: '12.50', currency: 'EUR' });
    expect(bodies.find((b) => b.type === 'member.enrolled')!.data).toEqual({ memberId: member, enrolledAt: now });

    const { deleteWebhookEndpoint } = await (await sub.as(partnerViewer(partnerId))).data<{ deleteWebhookEndpoint: { deletedEndpointId: string } }>(DELETE, { input: { endpointId: endpoint.id } });
    expect(deleteWebhookEndpoint.deletedEndpointId).toBe(endpoint.id);
    feeds.members.add('MemberEnrolled', randomUUID(), { programId: PROGRAM, memberId: randomUUID(), channel: 'PARTNER', referralId: null, enrolledAt: now, partnerId });
    await consume();
    await deliver();
    expect(receiver.received).toHaveLength(3);
    expect((await admin.data<{ webhookEndpoint: null }>(`query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: endpoint.id })).webhookEndpoint).toBeNull();
  });

  it('a secret that no longer decrypts (the operator’s key changed) is a failed attempt saying so, never a silent stall', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    await sub.db.query(`UPDATE webhook_endpoints SET secret = $2 WHERE id = $1`, [endpoint.id, WebhookSecretCipher.random().encrypt('whsec_x', endpoint.id)]);
    accrual(partnerId, randomUUID());
    await consume();
    await deliver();
    expect(receiver.received).toHaveLength(0);
    const [message] = await messagesOf(endpoint.id, 'PENDING');
    expect(message!.attempts.nodes).toEqual([expect.objectContaining({ succeeded: false, statusCode: null, error: expect.stringMatching(/cannot be decrypted.*rotate the secret/) })]);
  });

  it('in production, refuses to connect to a name that resolves to a private or loopback address, or to such an address itself (SSRF)', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [`http://localhost:${port}/hooks`, `http://127.0.0.1:${port}/hooks`, `http://[::1]:${port}/hooks`]) {
      const outcome = await post(url, { 'content-type': 'application/json' }, '{}', 1_000, true);
      expect(outcome, url).toMatchObject({ succeeded: false, statusCode: null, error: expect.stringMatching(/refused: .*(non-public|not a public)/) });
    }
    expect(receiver.received).toHaveLength(0);
    // The same receiver outside production answers.
    expect(await post(`http://localhost:${port}/hooks`, { 'content-type': 'application/json' }, '{}', 1_000, false)).toMatchObject({ succeeded: true, statusCode: 204 });
  });

  it('forgets delivered and dead messages after 30 days (the retention job); pending ones stay', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    accrual(partnerId, randomUUID());
    await consume();
    await deliver();
    receiver.mode = 'fail';
    accrual(partnerId, randomUUID());
    await consume();
    await deliver();
    expect((await messagesOf(endpoint.id)).map((m) => m.status).sort()).toEqual(['DELIVERED', 'PENDING']);
    // Disabled, so the pending one is not retried into a dead letter while the clock jumps.
    await admin.data(UPDATE, { input: { endpointId: endpoint.id, enabled: false } });
    sub.clock.advance(31 * 24 * HOUR);
    const { 'webhook-retention': pruned } = await sub.runJobs();
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect((await messagesOf(endpoint.id)).map((m) => m.status)).toEqual(['PENDING']);
  });

  it('two deliverers at once (replicas) never send one message twice: claims skip what the other holds', async () => {
    const partnerId = await createPartner();
    const { endpoint } = await createEndpoint(partnerId, ['PURCHASE_RECORDED']);
    const events = Array.from({ length: 30 }, () => accrual(partnerId, randomUUID()));
    await consume();
    const settings = webhookSettingsFromEnv(process.env, createLogger('test', 'silent'));
    const replicas = [0, 1].map(() => new WebhookDeliverer(sub.db, sub.clock, settings, createLogger('test', 'silent'), { batchSize: 5, leaseMs: 60_000, maxRounds: 20 }));
    await Promise.all(replicas.map((r) => r.run()));
    const ids = receiver.received.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(events.map((e) => messageId(endpoint.id, e.id)).sort());
  });
});
