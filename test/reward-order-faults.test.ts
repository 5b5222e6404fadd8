import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogSubgraph, stockDiscrepancies, type SagaPoint } from '@loyalty-graph/catalog';
import { createViewerSigner, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import { caller, errorCodes, startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { startLedgerProxy, type LedgerCall, type LedgerFault, type LedgerProxy } from './support/ledger-proxy';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * The reward-order saga survives crashes. The catalog dies for real (a child process SIGKILLs
 * itself at each saga step, on the test catalog's database), and the ledger "dies" behind a proxy
 * (before a call, or after committing it but before answering). Afterwards recovery, run twice,
 * settles every order: no captured hold without its order, no order whose points were never
 * taken, no reservation or hold left open, stock and points exactly accounted for.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let member: Caller;
let catalog: RunningSubgraph;
let rewardId: string;
const START_POINTS = 100_000;
const POINTS = 100;
/** The catalog's defaults (DEFAULT_ORDER_OPTIONS): the lease and the reservation. */
const LEASE_MS = 30_000;
const RESERVATION_MS = 15 * 60_000;
const ROUNDS = 2;

const ADDRESS = { name: 'Ola Nordmann', line1: 'Storgata 1', postalCode: '00-950', city: 'Warszawa', country: 'pl' };
const PLACE = `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status failureCode } userErrors { code field message } } }`;
const CANCEL = `mutation($input: CancelRewardOrderInput!) { cancelRewardOrder(input: $input) { order { id status pointsRefunded } userErrors { code field message } } }`;
type OrderPayload = { order: { id: string; status: string; failureCode: string | null; pointsRefunded?: number } | null; userErrors: { code: string }[] };

let n = 0;
const key = (label: string) => `fault-${label}-${++n}`;
const orderInput = (idempotencyKey: string) => ({ idempotencyKey, memberId, lines: [{ rewardId, quantity: 1 }], shippingAddress: ADDRESS });

function memberViewer(): Viewer {
  return { kind: 'MEMBER', subject: 'fault-member', programId: p.id, memberId, partnerId: null, roles: [], scopes: [] };
}

/** Calls a catalog directly, as the gateway would, as the member. */
async function asMember(url: string): Promise<Caller> {
  return caller(url, { [VIEWER_HEADER]: await createViewerSigner(graph.internalSecret)(memberViewer()) });
}

interface CrashingCatalog {
  url: string;
  /** The signal that ended it. */
  exited: Promise<NodeJS.Signals | null>;
  kill(): void;
}

/** The catalog as a child process on the test catalog's database, killing itself at `crashAt`. */
async function crashingCatalog(crashAt: SagaPoint): Promise<CrashingCatalog> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/crashing-catalog.ts', import.meta.url))], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: catalog.database.url,
      INTERNAL_TOKEN_SECRET: graph.internalSecret,
      SUBGRAPH_URLS: `members=${graph.subgraphs['members']!.url},ledger=${graph.subgraphs['ledger']!.url}`,
      CLOCK_AT: graph.clock.now().toISOString(),
      CRASH_AT: crashAt,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error('the crashing catalog exited before it listened')));
  });
  return { url: (JSON.parse(line) as { url: string }).url, exited, kill: () => child.kill('SIGKILL') };
}

async function orderRow(orderId: string): Promise<{ status: string; sagaStep: string; holdId: string | null; points: number }> {
  const [row] = (await catalog.db.query(`SELECT status, saga_step AS "sagaStep", hold_id AS "holdId", points FROM reward_orders WHERE id = $1`, [orderId])) as {
    status: string;
    sagaStep: string;
    holdId: string | null;
    points: number;
  }[];
  return row!;
}

async function orderByKey(idempotencyKey: string): Promise<string> {
  const [row] = (await catalog.db.query(`SELECT id FROM reward_orders WHERE idempotency_key = $1`, [idempotencyKey])) as { id: string }[];
  return row!.id;
}

/** The ledger's holds for an order (found by the reference the catalog gives them). */
async function holdsOf(orderId: string): Promise<string[]> {
  const rows = (await graph.subgraphs['ledger']!.db.query(`SELECT status FROM holds WHERE reference = $1`, [`reward-order:${orderId}`])) as { status: string }[];
  return rows.map((r) => r.status);
}

async function recover(): Promise<number> {
  return (await catalog.runJobs())['reward-order-recovery']!;
}

/** Everything the invariants look at, to show a second recovery changes nothing. */
async function state(): Promise<unknown> {
  const orders = await catalog.db.query(`SELECT id, status, saga_step, hold_id, points_refunded, lease_until FROM reward_orders ORDER BY id`);
  const refunds = await catalog.db.query(`SELECT id, status FROM reward_order_refunds ORDER BY id`);
  const reservations = await catalog.db.query(`SELECT order_id, reward_id, status FROM stock_reservations ORDER BY order_id, reward_id`);
  const holds = await graph.subgraphs['ledger']!.db.query(`SELECT id, status FROM holds ORDER BY id`);
  return { orders, refunds, reservations, holds, points: (await p.points(memberId)).available };
}

/** Past the lease of whoever drove last, then recovery twice: the second run finds nothing to do. */
async function settle(): Promise<void> {
  graph.clock.advance(LEASE_MS + 1_000);
  await recover();
  const after = await state();
  expect(await recover()).toBe(0);
  expect(await state()).toEqual(after);
}

/** The invariants, over every order and hold of the member so far. */
async function expectConsistent(): Promise<void> {
  const orders = (await catalog.db.query(
    `SELECT id, status, saga_step AS "sagaStep", hold_id AS "holdId", points, points_refunded AS "pointsRefunded" FROM reward_orders WHERE member_id = $1`,
    [memberId],
  )) as { id: string; status: string; sagaStep: string; holdId: string | null; points: number; pointsRefunded: number }[];
  const holds = (await graph.subgraphs['ledger']!.db.query(`SELECT id, status, reference, points FROM holds WHERE member_id = $1`, [memberId])) as {
    id: string;
    status: string;
    reference: string;
    points: number;
  }[];
  const byId = new Map(orders.map((o) => [o.id, o]));
  for (const order of orders) {
    const mine = holds.filter((h) => h.reference === `reward-order:${order.id}`);
    // One hold per order at most: a replayed hold step never holds twice.
    expect(mine.length).toBeLessThanOrEqual(1);
    if (order.sagaStep === 'DONE') {
      // Settled forward: its points were taken, by the hold it recorded.
      expect(['CONFIRMED', 'DELIVERED', 'CANCELLED']).toContain(order.status);
      expect(mine.map((h) => [h.id, h.status])).toEqual([[order.holdId, 'CAPTURED']]);
    } else {
      // Settled backwards: nothing taken.
      expect(order).toMatchObject({ sagaStep: 'UNDONE', status: 'CANCELLED' });
      for (const hold of mine) expect(['RELEASED', 'EXPIRED']).toContain(hold.status);
    }
  }
  // No captured hold without its order; nothing left held.
  for (const hold of holds) {
    expect(hold.status).not.toBe('OPEN');
    if (hold.status === 'CAPTURED') expect(byId.get(hold.reference.replace('reward-order:', ''))?.sagaStep).toBe('DONE');
  }
  const [open] = (await catalog.db.query(
    `SELECT count(*)::int AS n FROM stock_reservations s JOIN reward_orders o ON o.id = s.order_id WHERE s.status = 'OPEN' AND o.member_id = $1`,
    [memberId],
  )) as { n: number }[];
  expect(open!.n).toBe(0);
  expect(await stockDiscrepancies(catalog.db, p.id)).toEqual([]);
  const [pending] = (await catalog.db.query(`SELECT count(*)::int AS n FROM reward_order_refunds WHERE status <> 'DONE'`)) as { n: number }[];
  expect(pending!.n).toBe(0);
  const spent = orders.filter((o) => o.sagaStep === 'DONE').reduce((sum, o) => sum + o.points - o.pointsRefunded, 0);
  expect((await p.points(memberId)).available).toBe(START_POINTS - spent);
}

/** The same key again, through the gateway: the same order, in the state recovery left it. */
async function expectSameOrder(idempotencyKey: string, orderId: string, status: string): Promise<void> {
  const before = (await p.points(memberId)).available;
  const again = (await member.data<{ placeRewardOrder: OrderPayload }>(PLACE, { input: orderInput(idempotencyKey) })).placeRewardOrder;
  expect(again.order).toMatchObject({ id: orderId, status });
  expect((await p.points(memberId)).available).toBe(before);
}

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  catalog = graph.subgraphs['catalog']!;
  p = await tierProgram(graph, 'Faults program', {});
  memberId = await p.enroll('faults@example.com');
  await graph.deliverEvents();
  const { adjustPoints } = await p.agent.data<{ adjustPoints: { userErrors: unknown[] } }>(
    `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`,
    { i: { idempotencyKey: key('points'), memberId, points: START_POINTS, reasonCode: 'GOODWILL', comment: 'fault test points' } },
  );
  expect(adjustPoints.userErrors).toEqual([]);
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`,
    { input: { idempotencyKey: key('reward'), programId: p.id, type: 'PHYSICAL', stock: 1_000, details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Kubek' }], points: POINTS } } },
  );
  expect(createReward.userErrors).toEqual([]);
  rewardId = createReward.reward!.id;
  member = await graph.asMember(p.id, memberId);
});
afterAll(() => graph?.stop());

describe('the catalog dies (SIGKILL) between two steps of the saga', () => {
  /** Places an order through a catalog that dies at `point`; the connection dies with it. */
  async function placeAndDie(point: SagaPoint, idempotencyKey: string): Promise<string> {
    const child = await crashingCatalog(point);
    try {
      await expect((await asMember(child.url)).send(PLACE, { input: orderInput(idempotencyKey) })).rejects.toThrow();
      expect(await child.exited).toBe('SIGKILL');
    } finally {
      child.kill();
    }
    return orderByKey(idempotencyKey);
  }

  const forward: [SagaPoint, string, string[]][] = [
    // [where it dies, the step it left recorded, the ledger's hold then]. A points-only order
    // records its hold only with the confirmation: recovery finds it by replaying the keyed hold.
    ['after-reserve', 'RESERVED', []],
    ['after-hold', 'RESERVED', ['OPEN']],
    ['after-capture', 'RESERVED', ['CAPTURED']],
  ];
  for (const [point, step, holds] of forward) {
    it(`${point}: recovery completes the order (CONFIRMED, hold CAPTURED), the same key returns it`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const k = key(point);
        const orderId = await placeAndDie(point, k);
        expect(await orderRow(orderId)).toMatchObject({ status: 'PLACED', sagaStep: step });
        expect(await holdsOf(orderId)).toEqual(holds);
        await settle();
        expect(await orderRow(orderId)).toMatchObject({ status: 'CONFIRMED', sagaStep: 'DONE' });
        expect(await holdsOf(orderId)).toEqual(['CAPTURED']);
        await expectSameOrder(k, orderId, 'CONFIRMED');
        await expectConsistent();
      }
    });
  }

  it('after-release: an order past its reservation is undone by a catalog that dies after releasing the hold; recovery finishes the undo', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const k = key('release');
      const orderId = await placeAndDie('after-hold', k);
      expect(await holdsOf(orderId)).toEqual(['OPEN']);
      // The reservation runs out; the member asks again (same key) and this catalog dies mid-undo.
      graph.clock.advance(RESERVATION_MS + 1_000);
      expect(await placeAndDie('after-release', k)).toBe(orderId);
      expect(await orderRow(orderId)).toMatchObject({ status: 'PLACED', sagaStep: 'RESERVED' });
      expect(await holdsOf(orderId)).toEqual(['RELEASED']);
      await settle();
      expect(await orderRow(orderId)).toMatchObject({ status: 'CANCELLED', sagaStep: 'UNDONE' });
      await expectSameOrder(k, orderId, 'CANCELLED');
      await expectConsistent();
    }
  });

  it('after-refund: a cancellation whose catalog dies after the ledger refunded is completed by recovery, the points given back once', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const placed = (await member.data<{ placeRewardOrder: OrderPayload }>(PLACE, { input: orderInput(key('refund')) })).placeRewardOrder;
      const orderId = placed.order!.id;
      expect(placed.order!.status).toBe('CONFIRMED');
      const before = (await p.points(memberId)).available;
      const cancelKey = key('cancel');
      const child = await crashingCatalog('after-refund');
      try {
        await expect((await asMember(child.url)).send(CANCEL, { input: { idempotencyKey: cancelKey, orderId } })).rejects.toThrow();
        expect(await child.exited).toBe('SIGKILL');
      } finally {
        child.kill();
      }
      // The units are back and the ledger refunded; only the refund's DONE is missing.
      expect(await catalog.db.query(`SELECT status FROM reward_order_refunds WHERE order_id = $1`, [orderId])).toEqual([{ status: 'PENDING' }]);
      expect((await p.points(memberId)).available).toBe(before + POINTS);
      await settle();
      expect(await catalog.db.query(`SELECT status FROM reward_order_refunds WHERE order_id = $1`, [orderId])).toEqual([{ status: 'DONE' }]);
      expect((await p.points(memberId)).available).toBe(before + POINTS);
      const again = (await member.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: cancelKey, orderId } })).cancelRewardOrder;
      expect(again.userErrors).toEqual([]);
      expect(again.order).toMatchObject({ id: orderId, status: 'CANCELLED', pointsRefunded: POINTS });
      expect((await p.points(memberId)).available).toBe(before + POINTS);
      await expectConsistent();
    }
  });
});

describe('the ledger dies before a call, or after committing it but before answering', () => {
  let proxy: LedgerProxy;
  let replica: RunningSubgraph;
  let viaProxy: Caller;

  beforeAll(async () => {
    proxy = await startLedgerProxy(graph.subgraphs['ledger']!.url);
    // A second catalog on the same database, reaching the ledger only through the proxy.
    replica = await startTestSubgraph(createCatalogSubgraph(), {
      internalSecret: graph.internalSecret,
      clock: graph.clock,
      peers: { members: graph.subgraphs['members']!.url, ledger: proxy.url },
      database: catalog.database,
    });
    viaProxy = await asMember(replica.url);
  });
  afterAll(async () => {
    await replica?.stop();
    await proxy?.close();
  });

  async function placeUnavailable(idempotencyKey: string): Promise<string> {
    const res = await viaProxy.send(PLACE, { input: orderInput(idempotencyKey) });
    // The ledger's silence is never the caller's mistake nor an internal error: retry later.
    expect(errorCodes(res)).toEqual(['SUBGRAPH_UNAVAILABLE']);
    expect(proxy.broken).toBe(1);
    return orderByKey(idempotencyKey);
  }

  /** Either recovery or the member's retry (same key) drives it on: both are tried, round by round. */
  async function driveOn(round: number, idempotencyKey: string, orderId: string, status: string): Promise<void> {
    if (round % 2 === 0) {
      await settle();
    } else {
      // Past the short lease the failed request left, the retry itself finishes the order.
      graph.clock.advance(6_000);
      const again = (await viaProxy.data<{ placeRewardOrder: OrderPayload }>(PLACE, { input: orderInput(idempotencyKey) })).placeRewardOrder;
      expect(again.order).toMatchObject({ id: orderId, status });
      await settle();
    }
  }

  const forward: [LedgerCall, string][] = [
    ['holdPoints', 'RESERVED'],
    ['captureHold', 'RESERVED'],
  ];
  for (const [call, step] of forward) {
    for (const fault of ['refuse', 'lose'] as LedgerFault[]) {
      it(`${call}, ${fault}: SUBGRAPH_UNAVAILABLE, then the order completes once`, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const k = key(`${call}-${fault}`);
          proxy.fail(call, fault);
          const orderId = await placeUnavailable(k);
          proxy.heal();
          expect(await orderRow(orderId)).toMatchObject({ status: 'PLACED', sagaStep: step });
          await driveOn(round, k, orderId, 'CONFIRMED');
          expect(await orderRow(orderId)).toMatchObject({ status: 'CONFIRMED', sagaStep: 'DONE' });
          expect(await holdsOf(orderId)).toEqual(['CAPTURED']);
          await expectSameOrder(k, orderId, 'CONFIRMED');
          await expectConsistent();
        }
      });
    }
  }

  for (const fault of ['refuse', 'lose'] as LedgerFault[]) {
    it(`releaseHold, ${fault}: undoing an expired order reports SUBGRAPH_UNAVAILABLE, then the undo completes`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const k = key(`release-${fault}`);
        // The hold is made but its answer lost: RESERVED, with a hold the order never recorded.
        proxy.fail('holdPoints', 'lose');
        const orderId = await placeUnavailable(k);
        expect(await holdsOf(orderId)).toEqual(['OPEN']);
        proxy.heal();
        proxy.fail('releaseHold', fault);
        graph.clock.advance(RESERVATION_MS + 1_000);
        expect(errorCodes(await viaProxy.send(PLACE, { input: orderInput(k) }))).toEqual(['SUBGRAPH_UNAVAILABLE']);
        expect(proxy.broken).toBe(1);
        expect(await holdsOf(orderId)).toEqual([fault === 'lose' ? 'RELEASED' : 'OPEN']);
        proxy.heal();
        await settle();
        expect(await orderRow(orderId)).toMatchObject({ status: 'CANCELLED', sagaStep: 'UNDONE' });
        expect(await holdsOf(orderId)).toEqual(['RELEASED']);
        await expectSameOrder(k, orderId, 'CANCELLED');
        await expectConsistent();
      }
    });

    it(`refundCapturedPoints, ${fault}: the cancellation stands, recovery gives the points back exactly once`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const placed = (await member.data<{ placeRewardOrder: OrderPayload }>(PLACE, { input: orderInput(key('refund')) })).placeRewardOrder;
        const orderId = placed.order!.id;
        const before = (await p.points(memberId)).available;
        proxy.fail('refundCapturedPoints', fault);
        const cancelKey = key('cancel');
        const cancelled = (await viaProxy.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: cancelKey, orderId } })).cancelRewardOrder;
        expect(cancelled.order).toMatchObject({ status: 'CANCELLED' });
        expect(proxy.broken).toBe(1);
        proxy.heal();
        expect(await catalog.db.query(`SELECT status FROM reward_order_refunds WHERE order_id = $1`, [orderId])).toEqual([{ status: 'PENDING' }]);
        expect((await p.points(memberId)).available).toBe(fault === 'lose' ? before + POINTS : before);
        await settle();
        expect(await catalog.db.query(`SELECT status FROM reward_order_refunds WHERE order_id = $1`, [orderId])).toEqual([{ status: 'DONE' }]);
        expect((await p.points(memberId)).available).toBe(before + POINTS);
        await expectConsistent();
      }
    });
  }
});
