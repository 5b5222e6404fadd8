import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer } from '@loyalty-graph/shared';
import { errorCodes, type startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { Costs } from '../src/services/costs';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * Money in analytics on its own, against real PostgreSQL, from events served from memory: the
 * liability as of instants (posted and pending), breakage on a constructed cohort history, IFRS 15
 * revenue from it, and the costs from the catalog's and partners' events.
 */
const LIABILITY_PROGRAM = '00000000-0000-4000-8000-0000000000b1';
const COHORT_PROGRAM = '00000000-0000-4000-8000-0000000000b2';
const MIXED_PROGRAM = '00000000-0000-4000-8000-0000000000b3';

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

const staff = (roles: ('ADMIN' | 'ANALYST' | 'AGENT')[], programId: string | null): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });
const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

const at = (iso: string) => new Date(iso);
const ledger = (type: string, programId: string, memberId: string, payload: Record<string, unknown>, when: string) =>
  feeds.ledger.add(type, memberId, { programId, memberId, ...payload, entryId: randomUUID() }, at(when));
function accrue(programId: string, memberId: string, points: number, amount: string, when: string, pending = true) {
  const purchaseId = randomUUID();
  ledger('PointsAccrued', programId, memberId, { purchaseId, points, statusPoints: points, pending, occurredAt: when, partnerId: null, amount, currency: 'EUR', channel: 'STORE' }, when);
  return purchaseId;
}
const redeem = (programId: string, memberId: string, points: number, when: string) => ledger('PointsRedeemed', programId, memberId, { holdId: randomUUID(), points, status: 'CAPTURED' }, when);

/** A Program representation as the gateway sends it, with members' point value (@requires). */
const program = (id: string, amount: string) => [{ __typename: 'Program', id, pointValue: { amount, currency: 'EUR' } }];
async function field<T>(as: Caller, id: string, pointValue: string, selection: string, variables: Record<string, unknown> = {}): Promise<T> {
  const declared = Object.keys(variables).map((k) => `$${k}: DateTime${k === 'asOf' ? '' : '!'}`);
  const query = `query($reps: [_Any!]!${declared.map((d) => `, ${d}`).join('')}) { _entities(representations: $reps) { ... on Program { ${selection} } } }`;
  const { _entities } = await as.data<{ _entities: T[] }>(query, { reps: program(id, pointValue), ...variables });
  return _entities[0]!;
}

const ann = randomUUID();
const bob = randomUUID();

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops)).sub;

  // LIABILITY_PROGRAM. Ann: 100 pending on 10 January, posted on the 25th; 40 spent on 5 February, 10 refunded.
  const annPurchase = accrue(LIABILITY_PROGRAM, ann, 100, '100.00', '2026-01-10T10:00:00Z');
  ledger('PointsPosted', LIABILITY_PROGRAM, ann, { purchaseId: annPurchase, points: 100, statusPoints: 100 }, '2026-01-25T00:00:00Z');
  ledger('PointsHeld', LIABILITY_PROGRAM, ann, { holdId: randomUUID(), points: 40 }, '2026-02-05T09:00:00Z'); // a reservation: still Ann's points
  redeem(LIABILITY_PROGRAM, ann, 40, '2026-02-05T10:00:00Z');
  ledger('PointsRefunded', LIABILITY_PROGRAM, ann, { holdId: randomUUID(), points: 10, reason: 'cancelled' }, '2026-02-06T10:00:00Z');
  // Bob: 200 pending on 10 February, 50 of them returned from pending on the 12th, the 150 left posted on 1 March, 30 expire on 15 March.
  const bobPurchase = accrue(LIABILITY_PROGRAM, bob, 200, '200.00', '2026-02-10T10:00:00Z');
  ledger(
    'PointsReturned',
    LIABILITY_PROGRAM,
    bob,
    { purchaseId: bobPurchase, points: 50, statusPoints: 50, fromPending: 50, fromPosted: 0, writtenOff: 0, statusFromPending: 50, statusFromPosted: 0, clawbackPolicy: 'WRITE_OFF', partnerId: null },
    '2026-02-12T10:00:00Z',
  );
  ledger('PointsPosted', LIABILITY_PROGRAM, bob, { purchaseId: bobPurchase, points: 150, statusPoints: 150 }, '2026-03-01T00:00:00Z');
  ledger('PointsExpired', LIABILITY_PROGRAM, bob, { points: 30 }, '2026-03-15T00:00:00Z');

  // COHORT_PROGRAM: three earn months with known redemptions (the triangle of domain/breakage.test.ts).
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  accrue(COHORT_PROGRAM, a, 100, '1000.00', '2026-01-05T00:00:00Z', false);
  redeem(COHORT_PROGRAM, a, 30, '2026-01-20T00:00:00Z');
  redeem(COHORT_PROGRAM, a, 20, '2026-02-10T00:00:00Z');
  redeem(COHORT_PROGRAM, a, 10, '2026-03-10T00:00:00Z');
  accrue(COHORT_PROGRAM, b, 200, '2000.00', '2026-02-01T00:00:00Z', false);
  redeem(COHORT_PROGRAM, b, 40, '2026-02-15T00:00:00Z');
  redeem(COHORT_PROGRAM, b, 60, '2026-03-15T00:00:00Z');
  accrue(COHORT_PROGRAM, c, 100, '1000.00', '2026-03-01T00:00:00Z', false);
  redeem(COHORT_PROGRAM, c, 20, '2026-03-02T00:00:00Z');

  // COHORT_PROGRAM's costs: 2 units at 12.50 redeemed, 1 returned; a line without a cost; one after the range.
  const order = randomUUID();
  const [line1, line2, line3] = [randomUUID(), randomUUID(), randomUUID()];
  const reward = randomUUID();
  const redeemed = (lineId: string, quantity: number, unitCost: { amount: string; currency: string } | null, when: string, programId = COHORT_PROGRAM) =>
    feeds.catalog.add(
      'RewardRedeemed',
      a,
      { programId, orderId: order, memberId: a, lineId, rewardId: reward, rewardType: 'PHYSICAL', quantity, points: 10 * quantity, cash: null, partnerId: null, holdId: randomUUID(), unitCost, redeemedAt: when },
      at(when),
    );
  redeemed(line1, 2, { amount: '12.50', currency: 'EUR' }, '2026-02-10T10:00:00Z');
  redeemed(line2, 1, null, '2026-02-10T10:00:00Z');
  feeds.catalog.add(
    'RewardOrderCancelled',
    a,
    { programId: COHORT_PROGRAM, orderId: order, memberId: a, lines: [{ lineId: line1, rewardId: reward, quantity: 1 }], pointsRefunded: 10, cashRefunded: null, paymentReference: null, returned: true, reason: 'broken', at: '2026-03-05T10:00:00Z' },
    at('2026-03-05T10:00:00Z'),
  );
  redeemed(line3, 3, { amount: '4.00', currency: 'EUR' }, '2026-04-10T10:00:00Z');
  const partner = randomUUID();
  const statement = (programId: string, netAmount: string, currency: string, closedAt: string) =>
    feeds.partners.add(
      'SettlementStatementClosed',
      partner,
      { programId, partnerId: partner, statementId: randomUUID(), periodStart: '2026-01-01T00:00:00Z', periodEnd: closedAt, currency, netAmount, closedAt },
      at(closedAt),
    );
  statement(COHORT_PROGRAM, '100.50', 'EUR', '2026-02-01T00:00:00Z');
  statement(COHORT_PROGRAM, '-20.25', 'EUR', '2026-03-01T00:00:00Z');
  statement(COHORT_PROGRAM, '999.00', 'EUR', '2026-04-01T00:00:00Z'); // closed at the range's end: outside it
  // MIXED_PROGRAM: a cost in EUR and a settlement in USD cannot be added up.
  redeemed(randomUUID(), 1, { amount: '5.00', currency: 'EUR' }, '2026-02-10T10:00:00Z', MIXED_PROGRAM);
  statement(MIXED_PROGRAM, '10.00', 'USD', '2026-02-01T00:00:00Z');
  await drain();
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

type Money = { amount: string; currency: string };
type Liability = { asOf: string; outstandingPoints: string; postedPoints: string; pendingPoints: string; outstanding: Money; posted: Money; pending: Money };
const LIABILITY = 'liability(asOf: $asOf) { asOf outstandingPoints postedPoints pendingPoints outstanding { amount currency } posted { amount currency } pending { amount currency } }';
const eur = (amount: string) => ({ amount, currency: 'EUR' });

describe('Program.liability', () => {
  it('is the outstanding points as of each instant, posted and pending apart, at the point value rounded half up', async () => {
    const analyst = await sub.as(staff(['ANALYST'], LIABILITY_PROGRAM));
    const asOf = async (iso: string) => (await field<{ liability: Liability }>(analyst, LIABILITY_PROGRAM, '0.0125', LIABILITY, { asOf: iso })).liability;
    expect(await asOf('2026-01-10T09:59:59Z')).toMatchObject({ outstandingPoints: '0', postedPoints: '0', pendingPoints: '0', outstanding: eur('0.00') });
    // The accrual's own instant counts (inclusive).
    expect(await asOf('2026-01-10T10:00:00Z')).toMatchObject({ outstandingPoints: '100', postedPoints: '0', pendingPoints: '100', outstanding: eur('1.25'), pending: eur('1.25') });
    expect(await asOf('2026-01-31T00:00:00Z')).toMatchObject({ outstandingPoints: '100', postedPoints: '100', pendingPoints: '0', posted: eur('1.25') });
    // Ann 100 − 40 + 10 = 70 posted (the hold itself changed nothing); Bob 200 − 50 = 150 pending.
    // 220 × 0.0125 = 2.75; 70 × 0.0125 = 0.875 → 0.88 and 150 × 0.0125 = 1.875 → 1.88 (half up, each on its own).
    expect(await asOf('2026-02-28T23:59:59Z')).toEqual({
      asOf: '2026-02-28T23:59:59.000Z',
      outstandingPoints: '220',
      postedPoints: '70',
      pendingPoints: '150',
      outstanding: eur('2.75'),
      posted: eur('0.88'),
      pending: eur('1.88'),
    });
    // Bob's 150 posted on 1 March, 30 of them expired on the 15th.
    expect(await asOf('2026-03-31T00:00:00Z')).toMatchObject({ outstandingPoints: '190', postedPoints: '190', pendingPoints: '0', outstanding: eur('2.38') });
  });

  it('is the same after every event is delivered again (a rewind that forgets)', async () => {
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    const analyst = await sub.as(staff(['ANALYST'], LIABILITY_PROGRAM));
    expect((await field<{ liability: Liability }>(analyst, LIABILITY_PROGRAM, '0.0125', LIABILITY, { asOf: '2026-03-31T00:00:00Z' })).liability).toMatchObject({
      outstandingPoints: '190',
      pendingPoints: '0',
    });
    const [row] = (await sub.db.query(`SELECT (SELECT count(*) FROM reward_facts)::int AS rewards, (SELECT count(*) FROM partner_settlement_facts)::int AS statements`)) as { rewards: number; statements: number }[];
    // Four RewardRedeemed and one line of one RewardOrderCancelled; four statements.
    expect(row).toEqual({ rewards: 5, statements: 4 });
  });
});

describe('Program.breakageEstimate', () => {
  it('develops the cohorts by chain ladder: factors, cohorts, URR and breakage rate from the events', async () => {
    const admin = await sub.as(staff(['ADMIN'], COHORT_PROGRAM));
    const { breakageEstimate } = await field<{ breakageEstimate: Record<string, unknown> }>(
      admin,
      COHORT_PROGRAM,
      '1',
      'breakageEstimate(asOf: $asOf) { method ultimateRedemptionRate breakageRate developmentFactors cohorts { month age pointsEarned pointsRedeemed pointsExpired pointsOutstanding cumulativeRedemptionRates projectedUltimateRedeemed } }',
      { asOf: '2026-03-31T23:59:59Z' },
    );
    // f(0) = 150 / 70, f(1) = 60 / 50; URR = (60 + 120 + 20 × 150/70 × 1.2) / 400.
    expect(breakageEstimate).toEqual({
      method: 'CHAIN_LADDER_FIFO',
      ultimateRedemptionRate: '0.578571',
      breakageRate: '0.421429',
      developmentFactors: ['2.142857', '1.200000'],
      cohorts: [
        { month: '2026-01', age: 2, pointsEarned: '100', pointsRedeemed: '60', pointsExpired: '0', pointsOutstanding: '40', cumulativeRedemptionRates: ['0.300000', '0.500000', '0.600000'], projectedUltimateRedeemed: '60.00' },
        { month: '2026-02', age: 1, pointsEarned: '200', pointsRedeemed: '100', pointsExpired: '0', pointsOutstanding: '100', cumulativeRedemptionRates: ['0.200000', '0.500000'], projectedUltimateRedeemed: '120.00' },
        { month: '2026-03', age: 0, pointsEarned: '100', pointsRedeemed: '20', pointsExpired: '0', pointsOutstanding: '80', cumulativeRedemptionRates: ['0.200000'], projectedUltimateRedeemed: '51.43' },
      ],
    });
  });

  it('has no rate before any point was earned', async () => {
    const admin = await sub.as(staff(['ADMIN'], COHORT_PROGRAM));
    const { breakageEstimate } = await field<{ breakageEstimate: unknown }>(admin, COHORT_PROGRAM, '1', 'breakageEstimate(asOf: $asOf) { ultimateRedemptionRate breakageRate cohorts { month } }', {
      asOf: '2025-12-31T00:00:00Z',
    });
    expect(breakageEstimate).toEqual({ ultimateRedemptionRate: null, breakageRate: null, cohorts: [] });
  });
});

describe('Program.deferredRevenue', () => {
  it('allocates the purchases’ price to points by relative SSP with the estimated URR and recognises it as points are redeemed', async () => {
    const analyst = await sub.as(staff(['ANALYST'], COHORT_PROGRAM));
    const { deferredRevenue } = await field<{ deferredRevenue: unknown }>(
      analyst,
      COHORT_PROGRAM,
      '1.00',
      `deferredRevenue(from: $from, to: $to) { transactionPrice { amount currency } pointsIssued expectedRedemptionRate allocatedToPoints { amount }
         allocatedToGoods { amount } revenueFromPoints { amount } contractLiabilityAtStart { amount } contractLiabilityAtEnd { amount } }`,
      { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
    );
    // Each month's sales are allocated with the URR known before the month, never revised:
    // January (no history, URR 1): 1,000 × 100 / 1,100 = 90.91;
    // February (URR at 31 January 0.3: 60 of 200 expected): 2,000 × 60 / 2,060 = 58.25;
    // March (URR at 28 February (50 + 40 × 50/30) / 300 = 0.388889: 39 of 100): 1,000 × 39 / 1,039 = 37.54.
    // Recognised with the URR now (0.578571…: 231 of 400 expected), 180 redeemed: 186.70 × 180 / 231 = 145.48.
    expect(deferredRevenue).toEqual({
      transactionPrice: eur('4000.00'),
      pointsIssued: '400',
      expectedRedemptionRate: '0.578571',
      allocatedToPoints: { amount: '186.70' },
      allocatedToGoods: { amount: '3813.30' },
      revenueFromPoints: { amount: '145.48' },
      contractLiabilityAtStart: { amount: '0.00' },
      contractLiabilityAtEnd: { amount: '41.22' },
    });
    // February alone: its allocation, and the revenue between the two instants (the cumulative catch-up included).
    const { deferredRevenue: february } = await field<{ deferredRevenue: unknown }>(
      analyst,
      COHORT_PROGRAM,
      '1.00',
      'deferredRevenue(from: $from, to: $to) { transactionPrice { amount } allocatedToPoints { amount } contractLiabilityAtStart { amount } contractLiabilityAtEnd { amount } }',
      { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    );
    // At 1 February: 90.91 allocated, URR 0.3 → 30 expected, 30 redeemed: all recognised, no liability.
    // At 1 March: 149.16 allocated; URR (50 + 66.67) / 300 → 117 of 300 expected, 90 redeemed: 149.16 × 90 / 117 = 114.74; liability 34.42.
    expect(february).toEqual({
      transactionPrice: { amount: '2000.00' },
      allocatedToPoints: { amount: '58.25' },
      contractLiabilityAtStart: { amount: '0.00' },
      contractLiabilityAtEnd: { amount: '34.42' },
    });
  });
});

describe('costs', () => {
  it('Program.programCosts: points issued at point value, fulfilment cost net of returned units, settlement net of statements closed in the range', async () => {
    const analyst = await sub.as(staff(['ANALYST'], COHORT_PROGRAM));
    const { programCosts } = await field<{ programCosts: unknown }>(
      analyst,
      COHORT_PROGRAM,
      '0.01',
      'programCosts(from: $from, to: $to) { pointsIssued pointsIssuedValue { amount currency } fulfilmentCost { amount currency } settlementNet { amount currency } }',
      { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
    );
    // 2 × 12.50 − 1 × 12.50 returned; the line without a cost counts 0; 100.50 − 20.25.
    expect(programCosts).toEqual({ pointsIssued: '400', pointsIssuedValue: eur('4.00'), fulfilmentCost: eur('12.50'), settlementNet: eur('80.25') });
  });

  it('Costs.between (for the business case) gives the same figures, and refuses to add up two currencies', async () => {
    // The business case builds it from the same database (Services.costs).
    const costs = new Costs(sub.db);
    expect(await costs.between(COHORT_PROGRAM, at('2026-01-01T00:00:00Z'), at('2026-04-01T00:00:00Z'))).toEqual({ fulfilmentCost: '12.50', settlementNet: '80.25', currency: 'EUR' });
    // The later line (3 × 4.00) and the statement closed on 1 April fall in the next range.
    expect(await costs.between(COHORT_PROGRAM, at('2026-04-01T00:00:00Z'), at('2026-05-01T00:00:00Z'))).toEqual({ fulfilmentCost: '12.00', settlementNet: '999.00', currency: 'EUR' });
    expect(await costs.between(COHORT_PROGRAM, at('2025-01-01T00:00:00Z'), at('2025-02-01T00:00:00Z'))).toEqual({ fulfilmentCost: '0', settlementNet: '0', currency: null });
    await expect(costs.between(MIXED_PROGRAM, at('2026-01-01T00:00:00Z'), at('2026-04-01T00:00:00Z'))).rejects.toThrow(/several currencies \(EUR, USD\)/);
    const admin = await sub.as(staff(['ADMIN'], MIXED_PROGRAM));
    const res = await admin.send(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { programCosts(from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z") { fulfilmentCost { amount } } } } }`, {
      reps: program(MIXED_PROGRAM, '0.01'),
    });
    expect(errorCodes(res)).toEqual(['CONFLICT']);
  });
});

describe('access', () => {
  const FIELDS = [
    'liability { outstandingPoints }',
    'breakageEstimate { breakageRate }',
    'deferredRevenue(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { revenueFromPoints { amount } }',
    'programCosts(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { fulfilmentCost { amount } }',
  ];
  const send = (as: Caller, selection: string, id = COHORT_PROGRAM) =>
    as.send(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { ${selection} } } }`, { reps: program(id, '0.01') });

  it('lets the program’s ADMIN and ANALYST and platform operators read every money field', async () => {
    for (const viewer of [staff(['ADMIN'], COHORT_PROGRAM), staff(['ANALYST'], COHORT_PROGRAM), staff(['ADMIN'], null)]) {
      const as = await sub.as(viewer);
      for (const selection of FIELDS) expect((await send(as, selection)).errors, `${viewer.subject} ${selection}`).toBeUndefined();
    }
  });

  it('refuses members, agents and other programs’ staff (FORBIDDEN), and a reversed range or a malformed id (BAD_USER_INPUT)', async () => {
    const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: COHORT_PROGRAM, memberId: ann, subject: 'idp|ann' };
    for (const viewer of [member, staff(['AGENT'], COHORT_PROGRAM), staff(['ADMIN'], LIABILITY_PROGRAM), staff(['ANALYST'], LIABILITY_PROGRAM)]) {
      const as = await sub.as(viewer);
      for (const selection of FIELDS) expect(errorCodes(await send(as, selection)), `${viewer.subject} ${selection}`).toEqual(['FORBIDDEN']);
    }
    const analyst = await sub.as(staff(['ANALYST'], COHORT_PROGRAM));
    for (const selection of [
      'deferredRevenue(from: "2026-02-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { revenueFromPoints { amount } }',
      'programCosts(from: "2026-03-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { fulfilmentCost { amount } }',
    ]) {
      expect(errorCodes(await send(analyst, selection))).toEqual(['BAD_USER_INPUT']);
    }
    const operator = await sub.as(staff(['ADMIN'], null));
    expect(errorCodes(await send(operator, 'liability { outstandingPoints }', 'not-an-id'))).toEqual(['BAD_USER_INPUT']);
  });
});
