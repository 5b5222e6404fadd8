import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Reward orders through the gateway, against real PostgreSQL in every subgraph: the saga (stock
 * reserved, points held and taken in the ledger), its refusals, payment of a cash part, the races
 * that oversell in other engines, fulfilment, and who may do what.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let member: Caller;
let fulfilment: Caller;

const ADDRESS = { name: 'Ola Nordmann', line1: 'Storgata 1', postalCode: '00-950', city: 'Warszawa', country: 'pl' };
const ORDER_FIELDS = `id status points pointsRefunded failureCode cash { amount currency } paymentReference
  lines { id lineNo quantity pointsEach cancelled returned bookingReference reward { id } }
  history { from to changedBy reason } shippingAddress { city country } shipment { carrier trackingNumber trackingUrl }`;
const PLACE = `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { ${ORDER_FIELDS} } userErrors { code field message } } }`;

type Order = {
  id: string;
  status: string;
  points: number;
  pointsRefunded: number;
  failureCode: string | null;
  cash: { amount: string; currency: string } | null;
  paymentReference: string | null;
  lines: { id: string; lineNo: number; quantity: number; pointsEach: number; cancelled: number; returned: number; bookingReference: string | null; reward: { id: string } }[];
  history: { from: string | null; to: string; changedBy: string; reason: string | null }[];
  shippingAddress: { city: string; country: string } | null;
  shipment: { carrier: string; trackingNumber: string; trackingUrl: string | null } | null;
};
type OrderPayload = { order: Order | null; userErrors: { code: string; field: string | null; message: string }[] };

let n = 0;
const key = (label: string) => `order-${label}-${++n}`;

async function createReward(type: string, points: number, stock: number | null, over: Record<string, unknown> = {}): Promise<string> {
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`,
    { input: { idempotencyKey: key('reward'), programId: p.id, type, stock, details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: `Nagroda ${n}` }], points, ...over } } },
  );
  expect(createReward.userErrors).toEqual([]);
  return createReward.reward!.id;
}

async function give(to: string, points: number): Promise<void> {
  const { adjustPoints } = await p.agent.data<{ adjustPoints: { userErrors: unknown[] } }>(
    `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`,
    { i: { idempotencyKey: key('points'), memberId: to, points, reasonCode: 'GOODWILL', comment: 'test points' } },
  );
  expect(adjustPoints.userErrors).toEqual([]);
}

async function stock(rewardId: string): Promise<{ received: number; reserved: number; sold: number; available: number }> {
  const { reward } = await p.admin.data<{ reward: { stock: { received: number; reserved: number; sold: number; available: number } } }>(
    `query($id: ID!) { reward(id: $id) { stock { received reserved sold available } } }`,
    { id: rewardId },
  );
  return reward.stock;
}

async function stockCheck(): Promise<unknown[]> {
  const { rewardStockCheck } = await p.admin.data<{ rewardStockCheck: { reward: { id: string }; problem: string }[] }>(
    `query($p: ID!) { rewardStockCheck(programId: $p) { reward { id } problem } }`,
    { p: p.id },
  );
  return rewardStockCheck;
}

/** Holds the ledger still has open: after every order settles there must be none. */
async function openHolds(): Promise<number> {
  const [row] = (await graph.subgraphs['ledger']!.db.query(`SELECT count(*)::int AS n FROM holds WHERE status = 'OPEN'`)) as { n: number }[];
  return row!.n;
}

async function place(as: Caller, input: Record<string, unknown>): Promise<OrderPayload> {
  return (await as.data<{ placeRewardOrder: OrderPayload }>(PLACE, { input })).placeRewardOrder;
}

beforeAll(async () => {
  graph = await startSupergraph({ gateway: { limits: { budgets: { staff: { capacity: 1_000_000, restoreRate: 100_000 }, member: { capacity: 100_000, restoreRate: 10_000 } } } } });
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  p = await tierProgram(graph, 'Orders program', {});
  memberId = await p.enroll('orders@example.com');
  await graph.deliverEvents();
  await give(memberId, 10_000);
  member = await graph.asMember(p.id, memberId);
  fulfilment = await graph.asStaff(p.id, ['FULFILMENT']);
});
afterAll(() => graph?.stop());

describe('placeRewardOrder', () => {
  it('reserves, holds and takes the points in one call: CONFIRMED, points spent, the unit sold; the same key returns the same order', async () => {
    const mug = await createReward('PHYSICAL', 500, 5);
    const before = await p.points(memberId);
    const input = { idempotencyKey: key('mug'), memberId, lines: [{ rewardId: mug, quantity: 2 }], shippingAddress: ADDRESS };
    const placed = await place(member, input);
    expect(placed.userErrors).toEqual([]);
    expect(placed.order).toMatchObject({ status: 'CONFIRMED', points: 1_000, shippingAddress: { city: 'Warszawa', country: 'PL' } });
    expect(placed.order!.history.map((h) => [h.from, h.to])).toEqual([
      [null, 'PLACED'],
      ['PLACED', 'CONFIRMED'],
    ]);
    expect((await p.points(memberId)).available).toBe(before.available - 1_000);
    expect(await stock(mug)).toEqual({ received: 5, reserved: 0, sold: 2, available: 3 });

    const again = await place(member, input);
    expect(again.order!.id).toBe(placed.order!.id);
    expect((await p.points(memberId)).available).toBe(before.available - 1_000);
    expect(errorCodes(await member.send(PLACE, { input: { ...input, lines: [{ rewardId: mug, quantity: 1 }] } }))).toEqual(['CONFLICT']);
    expect(await stockCheck()).toEqual([]);
    expect(await openHolds()).toBe(0);
  });

  it('is cancelled with NOT_ENOUGH_POINTS when the ledger refuses the hold, giving the stock back; the same key says so again', async () => {
    const car = await createReward('PHYSICAL', 1_000_000, 3);
    const input = { idempotencyKey: key('car'), memberId, lines: [{ rewardId: car, quantity: 1 }], shippingAddress: ADDRESS };
    const placed = await place(member, input);
    expect(placed.userErrors.map((e) => e.code)).toEqual(['NOT_ENOUGH_POINTS']);
    expect(placed.order).toMatchObject({ status: 'CANCELLED', failureCode: 'NOT_ENOUGH_POINTS' });
    expect(await stock(car)).toEqual({ received: 3, reserved: 0, sold: 0, available: 3 });
    const again = await place(member, input);
    expect(again.order!.id).toBe(placed.order!.id);
    expect(again.userErrors.map((e) => e.code)).toEqual(['NOT_ENOUGH_POINTS']);
    expect(await openHolds()).toBe(0);
  });

  it('refuses before reserving anything: out of stock (lines of one reward added up), a tier it is not for, a retired reward, no address for goods', async () => {
    const lamp = await createReward('PHYSICAL', 10, 3);
    const split = await place(member, { idempotencyKey: key('split'), memberId, lines: [{ rewardId: lamp, quantity: 2 }, { rewardId: lamp, quantity: 2 }], shippingAddress: ADDRESS });
    expect(split.userErrors.map((e) => e.code)).toEqual(['OUT_OF_STOCK']);
    expect(split.order).toBeNull();
    expect(await stock(lamp)).toEqual({ received: 3, reserved: 0, sold: 0, available: 3 });

    const gold = await createReward('PHYSICAL', 10, null, { tierIds: [p.tiers.Gold] });
    expect((await place(member, { idempotencyKey: key('gold'), memberId, lines: [{ rewardId: gold, quantity: 1 }], shippingAddress: ADDRESS })).userErrors[0]).toMatchObject({ code: 'TIER', field: 'lines.0.rewardId' });

    await p.admin.data(`mutation($id: ID!) { retireReward(input: { rewardId: $id }) { userErrors { code } } }`, { id: lamp });
    expect((await place(member, { idempotencyKey: key('retired'), memberId, lines: [{ rewardId: lamp, quantity: 1 }], shippingAddress: ADDRESS })).userErrors[0]!.code).toBe('RETIRED');

    const kettle = await createReward('PHYSICAL', 10, null);
    expect((await place(member, { idempotencyKey: key('noaddress'), memberId, lines: [{ rewardId: kettle, quantity: 1 }] })).userErrors[0]!.code).toBe('SHIPPING_ADDRESS_REQUIRED');
  });

  it('delivers digital rewards at once and gives an experience a booking reference', async () => {
    const concert = await createReward('EXPERIENCE', 100, 10, { experience: { startsAt: '2026-07-01T18:00:00Z', place: 'Kraków', seats: 10 } });
    const spa = await createReward('PARTNER_SERVICE', 100, null, { partnerId: '00000000-0000-4000-8000-0000000000aa' });
    const { order } = await place(member, { idempotencyKey: key('digital'), memberId, lines: [{ rewardId: spa, quantity: 1 }] });
    expect(order).toMatchObject({ status: 'DELIVERED' });
    expect(order!.history.map((h) => h.to)).toEqual(['PLACED', 'CONFIRMED', 'DELIVERED']);
    const booked = await place(member, { idempotencyKey: key('concert'), memberId, lines: [{ rewardId: concert, quantity: 2 }] });
    expect(booked.order!.status).toBe('CONFIRMED');
    expect(booked.order!.lines[0]!.bookingReference).toMatch(/^BK-[0-9A-F]{8}-1$/);
  });

  it('refuses malformed input as BAD_USER_INPUT naming the field', async () => {
    const res = await member.send(PLACE, { input: { idempotencyKey: key('bad'), memberId, lines: [{ rewardId: 'nope', quantity: 1 }] } });
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.extensions!['field']).toBe('lines.0.rewardId');
    const zero = await member.send(PLACE, { input: { idempotencyKey: key('bad'), memberId, lines: [] } });
    expect(errorCodes(zero)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('charity', () => {
  it('donates through the ledger: DELIVERED at once, the charity receives the points; alone, and only with a charity', async () => {
    await p.admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, monthlyDonationLimit: 100000 }) { settings { monthlyDonationLimit } } }`, { p: p.id });
    const { createCharity } = await p.admin.data<{ createCharity: { charity: { id: string } } }>(
      `mutation($p: ID!) { createCharity(input: { programId: $p, name: "Forests of Mazury" }) { charity { id } userErrors { code } } }`,
      { p: p.id },
    );
    const tree = await createReward('CHARITY', 250, null, { charityId: createCharity.charity.id });
    const before = (await p.points(memberId)).available;
    const { order, userErrors } = await place(member, { idempotencyKey: key('tree'), memberId, lines: [{ rewardId: tree, quantity: 2 }] });
    expect(userErrors).toEqual([]);
    expect(order).toMatchObject({ status: 'DELIVERED', points: 500 });
    expect((await p.points(memberId)).available).toBe(before - 500);
    const { program } = await p.admin.data<{ program: { charities: { id: string; donatedPoints: string }[] } }>(`query($p: ID!) { program(id: $p) { charities { id donatedPoints } } }`, { p: p.id });
    expect(program.charities.find((c) => c.id === createCharity.charity.id)!.donatedPoints).toBe('500');
    expect(await openHolds()).toBe(0);

    // A donation is given: a complaint cannot take it back.
    const { openComplaint } = await member.data<{ openComplaint: { complaint: { id: string } } }>(
      `mutation($input: OpenComplaintInput!) { openComplaint(input: $input) { complaint { id } userErrors { code } } }`,
      { input: { idempotencyKey: key('complaint'), orderId: order!.id, reason: 'OTHER', description: 'I want my points back' } },
    );
    const { resolveComplaint } = await p.agent.data<{ resolveComplaint: { userErrors: { code: string }[] } }>(
      `mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) { userErrors { code } } }`,
      { input: { idempotencyKey: key('resolve'), complaintId: openComplaint.complaint.id, resolution: 'POINTS_REFUND', points: 100, note: 'Sorry' } },
    );
    expect(resolveComplaint.userErrors.map((e) => e.code)).toEqual(['NOT_REFUNDABLE']);
    expect((await p.points(memberId)).available).toBe(before - 500);

    const mug = await createReward('PHYSICAL', 10, null);
    const mixed = await place(member, { idempotencyKey: key('mixed'), memberId, lines: [{ rewardId: tree, quantity: 1 }, { rewardId: mug, quantity: 1 }], shippingAddress: ADDRESS });
    expect(mixed.userErrors.map((e) => e.code)).toEqual(['CHARITY_ORDERED_ALONE']);
    const unnamed = await createReward('CHARITY', 10, null);
    expect((await place(member, { idempotencyKey: key('unnamed'), memberId, lines: [{ rewardId: unnamed, quantity: 1 }] })).userErrors.map((e) => e.code)).toEqual(['CHARITY_NOT_SET']);
  });
});

describe('points plus cash', () => {
  it('waits in PLACED for the payment; the payment service confirms it and the points are taken', async () => {
    const bike = await createReward('PHYSICAL', 300, 2, { cash: { amount: '49.5', currency: 'PLN' } });
    const before = (await p.points(memberId)).available;
    const placed = await place(member, { idempotencyKey: key('bike'), memberId, lines: [{ rewardId: bike, quantity: 2 }], shippingAddress: ADDRESS });
    expect(placed.order).toMatchObject({ status: 'PLACED', cash: { amount: '99.00', currency: 'PLN' } });
    expect((await p.points(memberId)).available).toBe(before - 600);

    const payments = await graph.service('catalog');
    const CONFIRM = `mutation($input: ConfirmRewardOrderPaymentInput!) { confirmRewardOrderPayment(input: $input) { order { status paymentReference } userErrors { code field } } }`;
    const wrong = await payments.data<{ confirmRewardOrderPayment: OrderPayload }>(CONFIRM, { input: { orderId: placed.order!.id, providerReference: 'psp-1', amount: { amount: '98.99', currency: 'PLN' } } });
    expect(wrong.confirmRewardOrderPayment.userErrors.map((e) => e.code)).toEqual(['PAYMENT_AMOUNT_MISMATCH']);
    expect(errorCodes(await member.send(CONFIRM, { input: { orderId: placed.order!.id, providerReference: 'psp-1', amount: { amount: '99.00', currency: 'PLN' } } }))).toEqual(['FORBIDDEN']);
    const paid = await payments.data<{ confirmRewardOrderPayment: OrderPayload }>(CONFIRM, { input: { orderId: placed.order!.id, providerReference: 'psp-1', amount: { amount: '99', currency: 'PLN' } } });
    expect(paid.confirmRewardOrderPayment.order).toMatchObject({ status: 'CONFIRMED', paymentReference: 'psp-1' });
    expect((await p.points(memberId)).available).toBe(before - 600);
    expect(await stock(bike)).toMatchObject({ reserved: 0, sold: 2 });
    expect(await openHolds()).toBe(0);
  });

  it('is cancelled with its cash owed back when the payment arrives after the points hold expired', async () => {
    await p.admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, holdTtlMinutes: 1 }) { settings { holdTtlMinutes } } }`, { p: p.id });
    const lamp = await createReward('PHYSICAL', 100, 1, { cash: { amount: '7', currency: 'EUR' } });
    const before = (await p.points(memberId)).available;
    const placed = await place(member, { idempotencyKey: key('late-pay'), memberId, lines: [{ rewardId: lamp, quantity: 1 }], shippingAddress: ADDRESS });
    graph.clock.advance(2 * 60_000);
    const payments = await graph.service('catalog');
    const { confirmRewardOrderPayment } = await payments.data<{ confirmRewardOrderPayment: { order: { status: string; failureCode: string; cashRefunded: { amount: string } } } }>(
      `mutation($input: ConfirmRewardOrderPaymentInput!) { confirmRewardOrderPayment(input: $input) { order { status failureCode cashRefunded { amount } } userErrors { code } } }`,
      { input: { orderId: placed.order!.id, providerReference: 'psp-late', amount: { amount: '7.00', currency: 'EUR' } } },
    );
    expect(confirmRewardOrderPayment.order).toEqual({ status: 'CANCELLED', failureCode: 'RESERVATION_EXPIRED', cashRefunded: { amount: '7.00' } });
    const events = (await graph.subgraphs['catalog']!.db.query(`SELECT payload FROM outbox WHERE event_type = 'RewardOrderCancelled' AND payload->>'orderId' = $1`, [placed.order!.id])) as {
      payload: { cashRefunded: { amount: string }; paymentReference: string };
    }[];
    expect(events.map((e) => [e.payload.cashRefunded.amount, e.payload.paymentReference])).toEqual([['7.00', 'psp-late']]);
    expect((await p.points(memberId)).available).toBe(before);
    expect(await stock(lamp)).toMatchObject({ reserved: 0, sold: 0, available: 1 });
    await p.admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, holdTtlMinutes: 60 }) { settings { holdTtlMinutes } } }`, { p: p.id });
  });

  it('is cancelled, its hold released and its stock freed, when the payment does not come in time', async () => {
    const tent = await createReward('PHYSICAL', 200, 1, { cash: { amount: '10', currency: 'EUR' } });
    const before = (await p.points(memberId)).available;
    const placed = await place(member, { idempotencyKey: key('tent'), memberId, lines: [{ rewardId: tent, quantity: 1 }], shippingAddress: ADDRESS });
    expect(placed.order!.status).toBe('PLACED');
    expect(await stock(tent)).toMatchObject({ reserved: 1, available: 0 });
    graph.clock.advance(16 * 60_000);
    await graph.subgraphs['catalog']!.runJobs();
    const { rewardOrder } = await member.data<{ rewardOrder: Order }>(`query($id: ID!) { rewardOrder(id: $id) { ${ORDER_FIELDS} } }`, { id: placed.order!.id });
    expect(rewardOrder).toMatchObject({ status: 'CANCELLED', failureCode: 'PAYMENT_NOT_CONFIRMED' });
    expect(rewardOrder.history.at(-1)).toMatchObject({ from: 'PLACED', to: 'CANCELLED', changedBy: 'recovery' });
    expect(await stock(tent)).toEqual({ received: 1, reserved: 0, sold: 0, available: 1 });
    expect((await p.points(memberId)).available).toBe(before);
    expect(await openHolds()).toBe(0);
  });
});

describe('races that oversell elsewhere', () => {
  it('64 concurrent orders on the last 10 units: exactly 10 succeed, every time, and the invariant holds', async () => {
    const buyers = await Promise.all(Array.from({ length: 16 }, (_, i) => p.enroll(`racer${i}@example.com`)));
    await graph.deliverEvents();
    await Promise.all(buyers.map((b) => give(b, 10_000)));
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const last = await createReward('PHYSICAL', 10, 10);
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) => place(p.agent, { idempotencyKey: key(`race${round}`), memberId: buyers[i % buyers.length], lines: [{ rewardId: last, quantity: 1 }], shippingAddress: ADDRESS })),
      );
      const confirmed = results.filter((r) => r.order?.status === 'CONFIRMED');
      expect(confirmed).toHaveLength(10);
      expect(results.filter((r) => r.order === null).every((r) => r.userErrors[0]!.code === 'OUT_OF_STOCK')).toBe(true);
      expect(await stock(last)).toEqual({ received: 10, reserved: 0, sold: 10, available: 0 });
    }
    expect(await stockCheck()).toEqual([]);
    expect(await openHolds()).toBe(0);
  });

  it('20 parallel orders by one member with a limit of 1 per 30 days: exactly 1 succeeds', async () => {
    const once = await createReward('PHYSICAL', 10, 100, { perMemberLimit: { count: 1, days: 30 } });
    const results = await Promise.all(Array.from({ length: 20 }, () => place(member, { idempotencyKey: key('limit'), memberId, lines: [{ rewardId: once, quantity: 1 }], shippingAddress: ADDRESS })));
    expect(results.filter((r) => r.order?.status === 'CONFIRMED')).toHaveLength(1);
    expect(results.filter((r) => r.userErrors[0]?.code === 'LIMIT_REACHED')).toHaveLength(19);
    expect(await stock(once)).toMatchObject({ sold: 1, reserved: 0 });
    // The member's catalog says so before they try again.
    const { createCatalog } = await p.admin.data<{ createCatalog: { catalog: { id: string } } }>(
      `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } } }`,
      { input: { idempotencyKey: key('catalog'), programId: p.id, name: 'Once a month' } },
    );
    await p.admin.data(`mutation($input: SetCatalogRewardsInput!) { setCatalogRewards(input: $input) { userErrors { code } } }`, { input: { catalogId: createCatalog.catalog.id, rewardIds: [once] } });
    const reasons = async () =>
      (await member.data<{ me: { eligibleRewards: { reward: { id: string }; reasons: string[] }[] } }>(`{ me { eligibleRewards { reward { id } reasons } } }`)).me.eligibleRewards.find((e) => e.reward.id === once)!.reasons;
    expect(await reasons()).toEqual(['LIMIT_REACHED']);
    graph.clock.advance(31 * 86_400_000);
    expect(await reasons()).toEqual([]);
    expect((await place(member, { idempotencyKey: key('limit'), memberId, lines: [{ rewardId: once, quantity: 1 }], shippingAddress: ADDRESS })).order!.status).toBe('CONFIRMED');
  });
});

const IMPORT = `mutation($input: ImportVoucherCodesInput!) { importVoucherCodes(input: $input) { imported rejected { index reason } userErrors { code } } }`;

async function voucherWithCodes(codes: string[], points = 10): Promise<string> {
  const reward = await createReward('E_VOUCHER', points, null);
  const { importVoucherCodes } = await p.admin.data<{ importVoucherCodes: { imported: number } }>(IMPORT, { input: { idempotencyKey: key('codes'), rewardId: reward, codes } });
  expect(importVoucherCodes.imported).toBe(codes.length);
  return reward;
}

describe('e-vouchers', () => {
  const WITH_CODES = `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status lines { voucherCodes { masked code } } } userErrors { code } } }`;
  type CodesPayload = { order: { id: string; status: string; lines: { voucherCodes: { masked: string; code: string | null }[] }[] } | null; userErrors: { code: string }[] };

  it('are delivered at once with their code, whole for the member and masked for staff', async () => {
    const reward = await voucherWithCodes(['CINEMA-0001-AAAA', 'CINEMA-0002-BBBB', 'CINEMA-0003-CCCC']);
    const { placeRewardOrder } = await member.data<{ placeRewardOrder: CodesPayload }>(WITH_CODES, { input: { idempotencyKey: key('cinema'), memberId, lines: [{ rewardId: reward, quantity: 2 }] } });
    expect(placeRewardOrder.order!.status).toBe('DELIVERED');
    const codes = placeRewardOrder.order!.lines[0]!.voucherCodes;
    expect(codes).toHaveLength(2);
    expect(new Set(codes.map((c) => c.code)).size).toBe(2);
    expect(codes.every((c) => c.code!.startsWith('CINEMA-'))).toBe(true);
    const { rewardOrder } = await p.agent.data<{ rewardOrder: CodesPayload['order'] }>(`query($id: ID!) { rewardOrder(id: $id) { lines { voucherCodes { masked code } } } }`, { id: placeRewardOrder.order!.id });
    expect(rewardOrder!.lines[0]!.voucherCodes.map((c) => c.code)).toEqual([null, null]);
    expect(rewardOrder!.lines[0]!.voucherCodes[0]!.masked).toMatch(/^•+[A-Z]{4}$/);
    // E-vouchers are used once issued: nothing to cancel.
    const cancel = await member.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: key('cancel'), orderId: placeRewardOrder.order!.id } });
    expect(cancel.cancelRewardOrder.userErrors.map((e) => e.code)).toEqual(['NOT_CANCELLABLE']);
  });

  it('1,000 concurrent orders on a 500-code pool: 500 succeed, no code twice; a retry returns the same code', async () => {
    const codes = Array.from({ length: 500 }, (_, i) => `POOL-${String(i).padStart(4, '0')}-${(i * 7919).toString(36).toUpperCase()}`);
    const reward = await voucherWithCodes(codes, 1);
    const buyers = await Promise.all(Array.from({ length: 10 }, (_, i) => p.enroll(`pool${i}@example.com`)));
    await graph.deliverEvents();
    await Promise.all(buyers.map((b) => give(b, 1_000)));
    const inputs = Array.from({ length: 1_000 }, (_, i) => ({ idempotencyKey: key('pool'), memberId: buyers[i % buyers.length], lines: [{ rewardId: reward, quantity: 1 }] }));
    const results = await Promise.all(inputs.map((input) => p.agent.data<{ placeRewardOrder: CodesPayload }>(WITH_CODES, { input }).then((r) => r.placeRewardOrder)));
    const delivered = results.filter((r) => r.order?.status === 'DELIVERED');
    expect(delivered).toHaveLength(500);
    expect(results.filter((r) => r.order === null).every((r) => r.userErrors[0]!.code === 'OUT_OF_STOCK')).toBe(true);
    const [row] = (await graph.subgraphs['catalog']!.db.query(
      `SELECT count(*)::int AS assigned, count(DISTINCT order_line_id)::int AS lines FROM voucher_codes WHERE reward_id = $1 AND status = 'ASSIGNED'`,
      [reward],
    )) as { assigned: number; lines: number }[];
    expect(row).toEqual({ assigned: 500, lines: 500 });
    // A retry of a delivered order (same key) returns the same order and so the same code.
    const first = results.findIndex((r) => r.order?.status === 'DELIVERED');
    const again = await p.agent.data<{ placeRewardOrder: CodesPayload }>(WITH_CODES, { input: inputs[first] });
    expect(again.placeRewardOrder.order!.id).toBe(results[first]!.order!.id);
    expect(again.placeRewardOrder.order!.lines[0]!.voucherCodes.map((c) => c.masked)).toEqual(results[first]!.order!.lines[0]!.voucherCodes.map((c) => c.masked));
    expect(await stock(reward)).toEqual({ received: 500, reserved: 0, sold: 500, available: 0 });
    expect(await stockCheck()).toEqual([]);
    expect(await openHolds()).toBe(0);
    // A thousand orders through the gateway while other test files run beside it: minutes, not seconds.
  }, 120_000);
});

const CANCEL = `mutation($input: CancelRewardOrderInput!) { cancelRewardOrder(input: $input) { order { ${ORDER_FIELDS} } userErrors { code field message } } }`;
const RETURN = `mutation($input: CancelRewardOrderInput!) { returnRewardOrder(input: $input) { order { ${ORDER_FIELDS} } userErrors { code field message } } }`;

/** The member's open point lots in the ledger: what expires when (points by expiry date). */
async function lots(of: string): Promise<{ expiresAt: Date | null; remaining: number }[]> {
  return (await graph.subgraphs['ledger']!.db.query(
    `SELECT l.expires_at AS "expiresAt", sum(l.remaining)::int AS remaining FROM point_lots l JOIN accounts a ON a.id = l.account_id
     WHERE a.owner_id = $1 AND a.kind = 'MEMBER_REWARD' AND l.remaining > 0 GROUP BY l.expires_at ORDER BY l.expires_at NULLS LAST`,
    [of],
  )) as { expiresAt: Date | null; remaining: number }[];
}

describe('cancellation and return', () => {
  it('a partial cancellation of a multi-line order gives back those units’ points into their original lots, and the stock', async () => {
    const buyer = await p.enroll('canceller@example.com');
    await graph.deliverEvents();
    await give(buyer, 300);
    graph.clock.advance(86_400_000);
    await give(buyer, 300);
    const lotsBefore = await lots(buyer);
    const pen = await createReward('PHYSICAL', 100, 10);
    const pad = await createReward('PHYSICAL', 50, 10, { cash: { amount: '2.50', currency: 'EUR' } });
    const buyerCaller = await graph.asMember(p.id, buyer);
    const placed = await place(buyerCaller, { idempotencyKey: key('multi'), memberId: buyer, lines: [{ rewardId: pen, quantity: 3 }, { rewardId: pad, quantity: 2 }], shippingAddress: ADDRESS });
    expect(placed.order!.status).toBe('PLACED');
    await (await graph.service('catalog')).data(`mutation($input: ConfirmRewardOrderPaymentInput!) { confirmRewardOrderPayment(input: $input) { userErrors { code } } }`, {
      input: { orderId: placed.order!.id, providerReference: 'psp-multi', amount: { amount: '5.00', currency: 'EUR' } },
    });
    expect((await p.points(buyer)).available).toBe(600 - 400);

    const [penLine, padLine] = placed.order!.lines;
    const input = { idempotencyKey: key('cancel'), orderId: placed.order!.id, lines: [{ lineId: penLine!.id, quantity: 2 }, { lineId: padLine!.id, quantity: 1 }], reason: 'Changed my mind' };
    const cancelled = await buyerCaller.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input });
    expect(cancelled.cancelRewardOrder.userErrors).toEqual([]);
    expect(cancelled.cancelRewardOrder.order).toMatchObject({ status: 'CONFIRMED', pointsRefunded: 250 });
    expect(cancelled.cancelRewardOrder.order!.lines.map((l) => l.cancelled)).toEqual([2, 1]);
    expect((await p.points(buyer)).available).toBe(200 + 250);
    expect(await stock(pen)).toMatchObject({ sold: 1, available: 9 });
    // The same key again changes nothing; more units than are left are refused.
    await buyerCaller.data(CANCEL, { input });
    expect((await p.points(buyer)).available).toBe(450);
    const tooMany = await buyerCaller.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: key('cancel'), orderId: placed.order!.id, lines: [{ lineId: penLine!.id, quantity: 2 }] } });
    expect(tooMany.cancelRewardOrder.userErrors[0]).toMatchObject({ code: 'TOO_MANY_UNITS', field: 'lines.0.quantity' });
    const { rewardOrder } = await buyerCaller.data<{ rewardOrder: { cashRefunded: { amount: string } } }>(`query($id: ID!) { rewardOrder(id: $id) { cashRefunded { amount } } }`, { id: placed.order!.id });
    expect(rewardOrder.cashRefunded.amount).toBe('2.50');

    // Cancelling the rest empties the order: CANCELLED, every point back in the lot it came from.
    const rest = await buyerCaller.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: key('cancel'), orderId: placed.order!.id } });
    expect(rest.cancelRewardOrder.order).toMatchObject({ status: 'CANCELLED', pointsRefunded: 400 });
    expect(await lots(buyer)).toEqual(lotsBefore);
    expect(await stockCheck()).toEqual([]);
  });

  it('refunds into a lot that expired meanwhile expire at once: ordering and cancelling does not escape expiry', async () => {
    await p.admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, expiryPolicy: ROLLING_MONTHS, expiryMonths: 1 }) { settings { expiryPolicy } } }`, { p: p.id });
    const buyer = await p.enroll('escaper@example.com');
    await graph.deliverEvents();
    await give(buyer, 100);
    const buyerCaller = await graph.asMember(p.id, buyer);
    const pen = await createReward('PHYSICAL', 100, 10);
    const placed = await place(buyerCaller, { idempotencyKey: key('escape'), memberId: buyer, lines: [{ rewardId: pen, quantity: 1 }], shippingAddress: ADDRESS });
    expect((await p.points(buyer)).available).toBe(0);
    graph.clock.advance(32 * 86_400_000);
    const cancelled = await p.agent.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: key('cancel'), orderId: placed.order!.id, reason: 'late' } });
    expect(cancelled.cancelRewardOrder.order!.status).toBe('CANCELLED');
    expect((await p.points(buyer)).available).toBe(0);
    await p.admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, expiryPolicy: NEVER }) { settings { expiryPolicy } } }`, { p: p.id });
  });

  it('a member cannot cancel once packing started, nor return; fulfilment records a return and the points come back', async () => {
    const buyer = await p.enroll('returner@example.com');
    await graph.deliverEvents();
    await give(buyer, 500);
    const buyerCaller = await graph.asMember(p.id, buyer);
    const chair = await createReward('PHYSICAL', 200, 5);
    const { order } = await place(buyerCaller, { idempotencyKey: key('chair'), memberId: buyer, lines: [{ rewardId: chair, quantity: 1 }], shippingAddress: ADDRESS });
    await fulfilment.data(`mutation($input: RewardOrderIdsInput!) { packRewardOrders(input: $input) { userErrors { code } } }`, { input: { orderIds: [order!.id] } });
    const late = await buyerCaller.data<{ cancelRewardOrder: OrderPayload }>(CANCEL, { input: { idempotencyKey: key('cancel'), orderId: order!.id } });
    expect(late.cancelRewardOrder.userErrors.map((e) => e.code)).toEqual(['NOT_CANCELLABLE']);
    expect(errorCodes(await buyerCaller.send(RETURN, { input: { idempotencyKey: key('ret'), orderId: order!.id } }))).toEqual(['FORBIDDEN']);
    const early = await fulfilment.data<{ returnRewardOrder: OrderPayload }>(RETURN, { input: { idempotencyKey: key('ret'), orderId: order!.id } });
    expect(early.returnRewardOrder.userErrors.map((e) => e.code)).toEqual(['NOT_CANCELLABLE']);
    await fulfilment.data(`mutation($input: ShipRewardOrdersInput!) { shipRewardOrders(input: $input) { userErrors { code } } }`, {
      input: { shipments: [{ orderId: order!.id, carrier: 'DPD', trackingNumber: 'R1' }] },
    });
    const returned = await fulfilment.data<{ returnRewardOrder: OrderPayload }>(RETURN, { input: { idempotencyKey: key('ret'), orderId: order!.id, reason: 'Damaged box' } });
    expect(returned.returnRewardOrder.order).toMatchObject({ status: 'RETURNED', pointsRefunded: 200 });
    expect(returned.returnRewardOrder.order!.history.at(-1)).toMatchObject({ from: 'SHIPPED', to: 'RETURNED', reason: 'Damaged box' });
    expect((await p.points(buyer)).available).toBe(500);
    // Returned goods are not restocked by themselves.
    expect(await stock(chair)).toMatchObject({ sold: 1, available: 4 });
  });
});

describe('fulfilment', () => {
  it('packs a day’s orders in bulk, ships them with tracking, delivers them; the member follows every step', async () => {
    const box = await createReward('PHYSICAL', 10, 10);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await place(member, { idempotencyKey: key('box'), memberId, lines: [{ rewardId: box, quantity: 1 }], shippingAddress: ADDRESS })).order!.id);
    const { program } = await fulfilment.data<{ program: { rewardOrders: { nodes: { id: string }[] } } }>(
      `query($p: ID!) { program(id: $p) { rewardOrders(status: CONFIRMED, first: 100) { nodes { id } } } }`,
      { p: p.id },
    );
    expect(program.rewardOrders.nodes.map((o) => o.id)).toEqual(expect.arrayContaining(ids));

    const PACK = `mutation($input: RewardOrderIdsInput!) { packRewardOrders(input: $input) { orders { id status } userErrors { code field } } }`;
    const packed = await fulfilment.data<{ packRewardOrders: { orders: { id: string; status: string }[]; userErrors: { code: string; field: string }[] } }>(PACK, { input: { orderIds: [...ids, ids[0]] } });
    expect(packed.packRewardOrders.orders.map((o) => o.status)).toEqual(['PACKED', 'PACKED', 'PACKED']);
    expect(packed.packRewardOrders.userErrors).toEqual([{ code: 'INVALID_ORDER_TRANSITION', field: 'orderIds.3' }]);

    const SHIP = `mutation($input: ShipRewardOrdersInput!) { shipRewardOrders(input: $input) { orders { id status } userErrors { code field } } }`;
    const shipped = await fulfilment.data<{ shipRewardOrders: { orders: { status: string }[] } }>(SHIP, {
      input: { shipments: ids.map((orderId, i) => ({ orderId, carrier: 'InPost', trackingNumber: `TRK${i}`, trackingUrl: `https://track.example/TRK${i}` })) },
    });
    expect(shipped.shipRewardOrders.orders.map((o) => o.status)).toEqual(['SHIPPED', 'SHIPPED', 'SHIPPED']);
    const DELIVER = `mutation($input: RewardOrderIdsInput!) { deliverRewardOrders(input: $input) { orders { status } userErrors { code } } }`;
    await fulfilment.data(DELIVER, { input: { orderIds: ids } });

    const { me } = await member.data<{ me: { rewardOrders: { nodes: Order[] } } }>(`{ me { rewardOrders(first: 3) { nodes { ${ORDER_FIELDS} } } } }`);
    const seen = me.rewardOrders.nodes.find((o) => o.id === ids[0])!;
    expect(seen.status).toBe('DELIVERED');
    expect(seen.shipment).toEqual({ carrier: 'InPost', trackingNumber: 'TRK0', trackingUrl: 'https://track.example/TRK0' });
    expect(seen.history.map((h) => h.to)).toEqual(['PLACED', 'CONFIRMED', 'PACKED', 'SHIPPED', 'DELIVERED']);
  });

  it('refuses a member, an agent and another program’s fulfilment moving orders, and an http tracking URL', async () => {
    const box = await createReward('PHYSICAL', 10, 10);
    const { order } = await place(member, { idempotencyKey: key('refuse'), memberId, lines: [{ rewardId: box, quantity: 1 }], shippingAddress: ADDRESS });
    const PACK = `mutation($input: RewardOrderIdsInput!) { packRewardOrders(input: $input) { orders { id } userErrors { code field } } }`;
    expect(errorCodes(await member.send(PACK, { input: { orderIds: [order!.id] } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await p.agent.send(PACK, { input: { orderIds: [order!.id] } }))).toEqual(['FORBIDDEN']);
    const other = await graph.asStaff('00000000-0000-4000-8000-00000000ffff', ['FULFILMENT']);
    const foreign = await other.data<{ packRewardOrders: { orders: unknown[]; userErrors: { code: string }[] } }>(PACK, { input: { orderIds: [order!.id] } });
    expect(foreign.packRewardOrders).toEqual({ orders: [], userErrors: [{ code: 'FORBIDDEN', field: 'orderIds.0' }] });
    const SHIP = `mutation($input: ShipRewardOrdersInput!) { shipRewardOrders(input: $input) { orders { id } } }`;
    const bad = await fulfilment.send(SHIP, { input: { shipments: [{ orderId: order!.id, carrier: 'DHL', trackingNumber: '1', trackingUrl: 'http://track.example/1' }] } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.extensions!['field']).toBe('shipments.0.trackingUrl');
  });
});

describe('who may order and read', () => {
  it('refuses a member ordering for someone else, anonymous callers and fulfilment staff; hides others’ orders', async () => {
    const other = await p.enroll('someone-else@example.com');
    await graph.deliverEvents();
    const cup = await createReward('PHYSICAL', 10, null);
    const input = { idempotencyKey: key('who'), memberId: other, lines: [{ rewardId: cup, quantity: 1 }], shippingAddress: ADDRESS };
    expect(errorCodes(await member.send(PLACE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(PLACE, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await fulfilment.send(PLACE, { input }))).toEqual(['FORBIDDEN']);
    await give(other, 100);
    const { order } = await place(p.agent, input);
    expect(order!.status).toBe('CONFIRMED');
    const { rewardOrder } = await member.data<{ rewardOrder: Order | null }>(`query($id: ID!) { rewardOrder(id: $id) { id } }`, { id: order!.id });
    expect(rewardOrder).toBeNull();
  });
});

describe('fulfilment cost (for analytics)', () => {
  const REWARD = `query($id: ID!) { reward(id: $id) { unitCost { amount currency } } }`;
  const redeemedCosts = async (orderId: string) =>
    (
      (await graph.subgraphs['catalog']!.db.query(`SELECT payload FROM outbox WHERE event_type = 'RewardRedeemed' AND payload->>'orderId' = $1`, [orderId])) as {
        payload: { quantity: number; unitCost?: { amount: string; currency: string } | null };
      }[]
    ).map((e) => [e.payload.quantity, e.payload.unitCost]);

  it('an admin sets a reward’s unit cost; RewardRedeemed carries the cost in force when the line was confirmed', async () => {
    const kettle = await createReward('PHYSICAL', 100, 10, { unitCost: { amount: '3.5', currency: 'eur' } });
    expect((await p.admin.data<{ reward: unknown }>(REWARD, { id: kettle })).reward).toEqual({ unitCost: { amount: '3.50', currency: 'EUR' } });
    const first = await place(member, { idempotencyKey: key('kettle'), memberId, lines: [{ rewardId: kettle, quantity: 2 }], shippingAddress: ADDRESS });
    expect(first.userErrors).toEqual([]);
    expect(await redeemedCosts(first.order!.id)).toEqual([[2, { amount: '3.50', currency: 'EUR' }]]);

    const { updateReward } = await p.admin.data<{ updateReward: { userErrors: unknown[] } }>(
      `mutation($input: UpdateRewardInput!) { updateReward(input: $input) { userErrors { code field message } } }`,
      { input: { rewardId: kettle, details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Czajnik' }], points: 100, unitCost: { amount: '4', currency: 'EUR' } } } },
    );
    expect(updateReward.userErrors).toEqual([]);
    const second = await place(member, { idempotencyKey: key('kettle'), memberId, lines: [{ rewardId: kettle, quantity: 1 }], shippingAddress: ADDRESS });
    expect(await redeemedCosts(second.order!.id)).toEqual([[1, { amount: '4.00', currency: 'EUR' }]]);
    // A reward without a cost: the event says so (null), analytics counts it 0.
    const mug = await createReward('PHYSICAL', 100, 10);
    const third = await place(member, { idempotencyKey: key('mug'), memberId, lines: [{ rewardId: mug, quantity: 1 }], shippingAddress: ADDRESS });
    expect(await redeemedCosts(third.order!.id)).toEqual([[1, null]]);
  });

  it('hides the cost from agents and members, and refuses a negative cost or one with too many decimals', async () => {
    const mug = await createReward('PHYSICAL', 100, 10, { unitCost: { amount: '1.00', currency: 'EUR' } });
    expect(errorCodes(await p.agent.send(REWARD, { id: mug }))).toContain('FORBIDDEN');
    for (const amount of ['-1.00', '1.005']) {
      const res = await p.admin.send(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`, {
        input: { idempotencyKey: key('bad-cost'), programId: p.id, type: 'PHYSICAL', details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Zła' }], points: 1, unitCost: { amount, currency: 'EUR' } } },
      });
      expect(errorCodes(res), amount).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions?.['field'], amount).toBe('details.unitCost.amount');
    }
  });
});
