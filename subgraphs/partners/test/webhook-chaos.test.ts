import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph } from '@loyalty-graph/testing';
import { messageId } from '../src/domain/webhooks';
import { partnersSubgraph } from '../src/server';
import { MemoryFeed } from '@loyalty-graph/testing';
import { startReceiver } from './webhook-helpers';

/**
 * The deliverer dies mid-batch (SIGKILL: no shutdown, claims left behind) and another one starts:
 * every message still arrives at least once, a message sent twice carries the same webhook-id and
 * body, none is lost, and each member's messages first arrive in their order.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000d1';
const WORKER = fileURLToPath(new URL('./fixtures/webhook-worker.ts', import.meta.url));
const MEMBERS = 10;
const PER_MEMBER = 12;

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const feed = new MemoryFeed('ledger');
const stops: (() => Promise<void>)[] = [];
const key = randomBytes(32).toString('base64');

function spawnWorker() {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, WORKER_DB_URL: sub.database.url, PARTNERS_WEBHOOK_KEY: key, PARTNERS_WEBHOOK_TIMEOUT_MS: '1000', WORKER_LEASE_MS: '2000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited };
}

beforeAll(async () => {
  // The subgraph encrypts the endpoint's secret with the key the worker processes decrypt with.
  process.env['PARTNERS_WEBHOOK_KEY'] = key;
  const internalSecret = randomBytes(32).toString('hex');
  const served = await feed.serve(internalSecret);
  stops.push(served.stop);
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret, peers: { ledger: served.url } });
  // The workers run on the real clock: messages are due from now.
  sub.clock.set(new Date());
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await sub?.stop();
  await receiver?.stop();
  delete process.env['PARTNERS_WEBHOOK_KEY'];
});

it('a deliverer killed mid-batch loses nothing: the next one delivers every message, duplicates carry the same webhook-id, each member in order', async () => {
  const admin = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId: PROGRAM, roles: ['ADMIN'], subject: 'admin' } satisfies Viewer);
  const { createPartner } = await admin.data<{ createPartner: { partner: { id: string } } }>(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`, {
    input: { idempotencyKey: `chaos-${randomUUID()}`, programId: PROGRAM, name: 'Chaos partner', category: 'FUEL' },
  });
  const partnerId = createPartner.partner.id;
  const { createWebhookEndpoint } = await admin.data<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
    `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
    { input: { partnerId, url: receiver.url, eventTypes: ['PURCHASE_RECORDED'] } },
  );
  const endpointId = createWebhookEndpoint.endpoint.id;
  const members = Array.from({ length: MEMBERS }, () => randomUUID());
  const expected = new Map<string, string[]>(members.map((m) => [m, []]));
  for (let i = 0; i < PER_MEMBER; i++) {
    for (const member of members) {
      const event = feed.add('PointsAccrued', member, {
        programId: PROGRAM, memberId: member, purchaseId: randomUUID(), points: 10 + i, statusPoints: 10 + i, pending: false,
        occurredAt: new Date().toISOString(), partnerId, source: `partner:${partnerId}`, externalId: `tx-${i}`, entryId: randomUUID(),
      });
      expected.get(member)!.push(messageId(endpointId, event.id));
    }
  }
  await sub.consumers.find((c) => c.producer === 'ledger')!.drain();

  // Slow answers keep a batch in flight when the first deliverer is killed.
  receiver.delayMs = 40;
  const first = spawnWorker();
  const deadline = Date.now() + 60_000;
  while (receiver.received.length < 25 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  const beforeRestart = receiver.received.length;
  expect(beforeRestart).toBeGreaterThan(0);
  expect(beforeRestart).toBeLessThan(MEMBERS * PER_MEMBER);

  const second = spawnWorker();
  expect((await second.exited).code).toBe(0);

  const [{ delivered }] = (await sub.db.query(`SELECT count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered FROM webhook_messages WHERE endpoint_id = $1`, [endpointId])) as [{ delivered: number }];
  expect(delivered).toBe(MEMBERS * PER_MEMBER);
  const bodies = new Map<string, string>();
  for (const r of receiver.received) {
    // A message sent twice is the same message: same webhook-id, same bytes.
    if (bodies.has(r.id)) expect(r.body).toBe(bodies.get(r.id));
    bodies.set(r.id, r.body);
  }
  const all = [...expected.values()].flat();
  expect(new Set(bodies.keys())).toEqual(new Set(all));
  // Each member's messages first arrived in the order their events happened.
  const firstSeen = [...new Set(receiver.received.map((r) => r.id))];
  for (const ids of expected.values()) expect(firstSeen.filter((id) => ids.includes(id))).toEqual(ids);
}, 120_000);
