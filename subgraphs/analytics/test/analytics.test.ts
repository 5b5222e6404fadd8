import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { analyticsSubgraph } from '../src/server';
import { analyticsFeeds, startAnalytics } from './support';
import { FACT_TABLES } from '../src/services/facts';

/**
 * The analytics subgraph on its own, against real PostgreSQL: members' and the ledger's events
 * arrive over the real feed protocol from memory, so each test says exactly which events happened
 * and when, and the KPIs must follow from them.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000a1';
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000a2';

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
// The catalog's and partners' feeds are empty here (test/money.test.ts uses them): analytics reads them too.
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];
const peers: Record<string, string> = {};

const staff = (roles: ('ADMIN' | 'ANALYST' | 'AGENT')[], programId: string | null = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });

const KPIS = `query($reps: [_Any!]!, $period: KpiPeriod!, $from: DateTime!, $to: DateTime!) {
  _entities(representations: $reps) { ... on Program { kpis(period: $period, from: $from, to: $to) {
    period start end enrolled pointsIssued pointsRedeemed pointsExpired purchases averagePointsPerPurchase } } } }`;
type Bucket = { period: string; start: string; end: string; enrolled: number; pointsIssued: string; pointsRedeemed: string; pointsExpired: string; purchases: number; averagePointsPerPurchase: string | null };

async function kpis(as: Caller, period: string, from: string, to: string, programId = PROGRAM): Promise<Bucket[]> {
  const { _entities } = await as.data<{ _entities: { kpis: Bucket[] }[] }>(KPIS, { reps: [{ __typename: 'Program', id: programId }], period, from, to });
  return _entities[0]!.kpis;
}

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};
const factCount = async () => {
  const [row] = (await sub.db.query(`SELECT (SELECT count(*) FROM point_facts)::int + (SELECT count(*) FROM member_facts)::int AS n`)) as { n: number }[];
  return row!.n;
};

/** The events of one program's history, each at its instant. */
const at = (iso: string) => new Date(iso);
const entryId = () => randomUUID();
function enrol(programId: string, memberId: string, when: string) {
  feeds.members.add('MemberEnrolled', memberId, { programId, memberId, channel: 'SELF', referralId: null, enrolledAt: when }, at(when));
}
function accrue(programId: string, memberId: string, points: number, when: string, pending = true) {
  const purchaseId = randomUUID();
  feeds.ledger.add('PointsAccrued', memberId, { programId, memberId, purchaseId, points, statusPoints: points, pending, occurredAt: when, partnerId: null, amount: `${points}.00`, currency: 'EUR', channel: 'STORE', entryId: entryId() }, at(when));
  return purchaseId;
}
function ret(programId: string, memberId: string, purchaseId: string, split: { fromPending: number; fromPosted: number; writtenOff: number }, when: string) {
  const points = split.fromPending + split.fromPosted + split.writtenOff;
  feeds.ledger.add(
    'PointsReturned',
    memberId,
    { programId, memberId, purchaseId, points, statusPoints: points, ...split, statusFromPending: split.fromPending, statusFromPosted: split.fromPosted, clawbackPolicy: 'WRITE_OFF', partnerId: null, entryId: entryId() },
    at(when),
  );
}
const ledgerEvent = (type: string, programId: string, memberId: string, payload: Record<string, unknown>, when: string) =>
  feeds.ledger.add(type, memberId, { programId, memberId, ...payload, entryId: entryId() }, at(when));

const ann = randomUUID();
const bob = randomUUID();
const eve = randomUUID();

beforeAll(async () => {
  const started = await startAnalytics(feeds, stops);
  sub = started.sub;
  Object.assign(peers, started.peers);

  // Week of Monday 2026-11-02: two enrolments, two purchases (100 + 51), one partly returned.
  enrol(PROGRAM, ann, '2026-11-02T00:00:00Z');
  enrol(PROGRAM, bob, '2026-11-08T23:59:59Z'); // Sunday: still the week of the 2nd
  const first = accrue(PROGRAM, ann, 100, '2026-11-03T10:00:00Z');
  accrue(PROGRAM, bob, 51, '2026-11-08T22:00:00+00:00', false);
  ret(PROGRAM, ann, first, { fromPending: 30, fromPosted: 0, writtenOff: 0 }, '2026-11-04T09:00:00Z');
  // Week of Monday 2026-11-09: a bonus, a capture of 40 with 15 refunded, an expiry of 20 with 5 reinstated.
  enrol(PROGRAM, eve, '2026-11-09T00:00:00Z');
  ledgerEvent('ReferralBonusCredited', PROGRAM, ann, { referralId: randomUUID(), role: 'REFERRER', points: 25 }, '2026-11-09T08:00:00Z');
  const holdId = randomUUID();
  ledgerEvent('PointsHeld', PROGRAM, ann, { holdId, points: 40 }, '2026-11-10T08:00:00Z'); // not consumed: a reservation is not a redemption
  ledgerEvent('PointsRedeemed', PROGRAM, ann, { holdId, points: 40, status: 'CAPTURED' }, '2026-11-10T08:00:01Z');
  ledgerEvent('PointsRefunded', PROGRAM, ann, { holdId, points: 15, reason: 'order cancelled' }, '2026-11-11T08:00:00Z');
  ledgerEvent('PointsExpired', PROGRAM, bob, { points: 20 }, '2026-11-12T00:00:00Z');
  ledgerEvent('PointsReinstated', PROGRAM, bob, { points: 5, expiryEntryId: randomUUID() }, '2026-11-13T00:00:00Z');
  // Movements between members and to charities: no issuance, redemption or expiry.
  ledgerEvent('PointsAdjusted', PROGRAM, bob, { points: -3, reasonCode: 'GOODWILL' }, '2026-11-13T01:00:00Z');
  ledgerEvent('PointsDonated', PROGRAM, ann, { charityId: randomUUID(), points: 10 }, '2026-11-13T02:00:00Z');
  feeds.ledger.add('PointsTransferred', ann, { programId: PROGRAM, fromMemberId: ann, toMemberId: bob, points: 7, entryId: entryId() }, at('2026-11-13T03:00:00Z'));
  feeds.members.add('MemberStatusChanged', bob, { programId: PROGRAM, memberId: bob, fromStatus: 'ACTIVE', toStatus: 'SUSPENDED', reason: 'fraud check', changedAt: '2026-11-13T04:00:00Z' });
  // Another program's activity in the same weeks: never in PROGRAM's figures.
  enrol(OTHER_PROGRAM, randomUUID(), '2026-11-03T00:00:00Z');
  accrue(OTHER_PROGRAM, randomUUID(), 999, '2026-11-03T00:00:00Z');
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

const WEEK_1 = { period: 'WEEK', start: '2026-11-02T00:00:00.000Z', end: '2026-11-09T00:00:00.000Z', enrolled: 2, pointsIssued: '121', pointsRedeemed: '0', pointsExpired: '0', purchases: 2, averagePointsPerPurchase: '75.50' };
const WEEK_2 = { period: 'WEEK', start: '2026-11-09T00:00:00.000Z', end: '2026-11-16T00:00:00.000Z', enrolled: 1, pointsIssued: '25', pointsRedeemed: '25', pointsExpired: '15', purchases: 0, averagePointsPerPurchase: null };

describe('consumer lag', () => {
  it('shows operators how far behind members and the ledger analytics is, and 0 once delivered', async () => {
    const OPS = `{ analyticsOperations { consumers { producer lag } } }`;
    const operator = await sub.as(staff(['ADMIN'], null));
    // The kit's consumers learn the head when they poll: one poll that gets a single event of many.
    feeds.ledger.pageLimit = 1;
    try {
      for (const consumer of sub.consumers) await consumer.pollOnce();
    } finally {
      feeds.ledger.pageLimit = Number.POSITIVE_INFINITY;
    }
    const before = (await operator.data<{ analyticsOperations: { consumers: { producer: string; lag: string }[] } }>(OPS)).analyticsOperations.consumers;
    expect(before.find((c) => c.producer === 'ledger')!.lag).toBe(String(feeds.ledger.events.length - 1));
    await drain();
    const after = (await operator.data<{ analyticsOperations: { consumers: { producer: string; lag: string }[] } }>(OPS)).analyticsOperations.consumers;
    expect(after.map((c) => [c.producer, c.lag]).sort()).toEqual([
      ['catalog', '0'],
      ['ledger', '0'],
      ['members', '0'],
      ['partners', '0'],
    ]);
  });
});

describe('Program.kpis', () => {
  it('sums each Monday-to-Monday week from the events: issued net of returns plus bonuses, redeemed net of refunds, expired net of reinstatements', async () => {
    await drain();
    const analyst = await sub.as(staff(['ANALYST']));
    // From a Wednesday: the first bucket is still the whole week of Monday the 2nd.
    expect(await kpis(analyst, 'WEEK', '2026-11-04T12:00:00Z', '2026-11-16T00:00:00Z')).toEqual([WEEK_1, WEEK_2]);
  });

  it('puts the same events in days, months and quarters (an empty bucket has zeros and no average)', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    const days = await kpis(admin, 'DAY', '2026-11-08T00:00:00Z', '2026-11-10T00:00:00Z');
    expect(days.map((d) => [d.start.slice(0, 10), d.enrolled, d.pointsIssued, d.purchases])).toEqual([
      ['2026-11-08', 1, '51', 1],
      ['2026-11-09', 1, '25', 0],
    ]);
    const quarters = await kpis(admin, 'QUARTER', '2026-09-30T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(quarters.map((q) => [q.start.slice(0, 10), q.enrolled, q.pointsIssued, q.pointsRedeemed, q.pointsExpired, q.purchases, q.averagePointsPerPurchase])).toEqual([
      ['2026-07-01', 0, '0', '0', '0', 0, null],
      ['2026-10-01', 3, '146', '25', '15', 2, '75.50'],
    ]);
  });

  it('refuses members, partners, agents, other programs’ staff (FORBIDDEN) and unbounded or reversed ranges (BAD_USER_INPUT)', async () => {
    const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: PROGRAM, memberId: ann, subject: 'idp|ann' };
    const partner: Viewer = { ...ANONYMOUS, kind: 'PARTNER', programId: PROGRAM, partnerId: randomUUID(), subject: 'shop', scopes: ['settlement:read'] };
    for (const viewer of [member, partner, staff(['AGENT']), staff(['ADMIN'], OTHER_PROGRAM), staff(['ANALYST'], OTHER_PROGRAM)]) {
      const res = await (await sub.as(viewer)).send(KPIS, { reps: [{ __typename: 'Program', id: PROGRAM }], period: 'DAY', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' });
      expect(errorCodes(res), `${viewer.kind} ${JSON.stringify(res.errors)}`).toEqual(['FORBIDDEN']);
    }
    const analyst = await sub.as(staff(['ANALYST']));
    for (const [period, from, to] of [
      ['DAY', '2026-01-01T00:00:00Z', '2027-02-06T00:00:00Z'], // 401 days
      ['WEEK', '2026-11-09T00:00:00Z', '2026-11-02T00:00:00Z'],
      ['MONTH', '2026-11-09T00:00:00Z', '2026-11-09T00:00:00Z'],
    ]) {
      const res = await analyst.send(KPIS, { reps: [{ __typename: 'Program', id: PROGRAM }], period, from, to });
      expect(errorCodes(res), `${period} ${from} ${to}`).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('answers an operator’s malformed program id with BAD_USER_INPUT, not a database error', async () => {
    const operator = await sub.as(staff(['ADMIN'], null));
    const kpisRes = await operator.send(KPIS, { reps: [{ __typename: 'Program', id: 'not-an-id' }], period: 'DAY', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' });
    expect(errorCodes(kpisRes)).toEqual(['BAD_USER_INPUT']);
    const reconcileRes = await operator.send(`query($p: ID!) { analyticsReconciliation(programId: $p) { balanced } }`, { p: 'not-an-id' });
    expect(errorCodes(reconcileRes)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses the reconciliation to analysts and other programs’ admins', async () => {
    for (const viewer of [staff(['ANALYST']), staff(['ADMIN'], OTHER_PROGRAM)]) {
      const res = await (await sub.as(viewer)).send(`query($p: ID!) { analyticsReconciliation(programId: $p) { balanced } }`, { p: PROGRAM });
      expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    }
  });
});

describe('facts', () => {
  // A transfer is two rows (the sender's and the receiver's); a hold is not a fact.
  const consumed = () =>
    feeds.members.events.length + feeds.ledger.events.filter((e) => e.type !== 'PointsHeld').length + feeds.ledger.events.filter((e) => e.type === 'PointsTransferred').length;
  const states = () => sub.db.query(`SELECT * FROM member_state ORDER BY program_id, member_id`) as Promise<Record<string, unknown>[]>;

  it('are one row per event: redelivery after a rewind, and even forgetting what was processed, adds nothing', async () => {
    await drain();
    expect(await factCount()).toBe(consumed());
    for (const consumer of sub.consumers) await consumer.rewind(0);
    await drain();
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await factCount()).toBe(consumed());
    const analyst = await sub.as(staff(['ANALYST']));
    expect(await kpis(analyst, 'WEEK', '2026-11-02T00:00:00Z', '2026-11-16T00:00:00Z')).toEqual([WEEK_1, WEEK_2]);
  });

  it("keep each member's state current: status, purchases and spend, balance as the ledger moves it (a transfer on both sides)", async () => {
    await drain();
    const byMember = new Map((await states()).map((row) => [row.member_id, row]));
    expect(byMember.get(ann)).toMatchObject({
      enrolment_channel: 'SELF',
      status: 'ACTIVE',
      purchases: 1,
      spend: '100.0000',
      // +100 accrued −30 returned +25 bonus −40 redeemed +15 refunded −10 donated −7 sent
      points_balance: '53',
      points_earned: '95',
      points_redeemed: '25',
    });
    expect(byMember.get(ann)!.last_purchase_at).toEqual(new Date('2026-11-03T10:00:00Z'));
    // +51 −20 expired +5 reinstated −3 adjusted +7 received
    expect(byMember.get(bob)).toMatchObject({ status: 'SUSPENDED', purchases: 1, spend: '51.0000', points_balance: '40' });
    expect(byMember.get(eve)).toMatchObject({ purchases: 0, points_balance: '0', enrolled_at: new Date('2026-11-09T00:00:00Z') });
  });

  it('are written once when two replicas deliver the same events at the same time', async () => {
    const replica = await startTestSubgraph(analyticsSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret: sub.internalSecret, peers, database: sub.database });
    try {
      // New events, then both replicas forget everything and deliver the whole feed concurrently.
      accrue(PROGRAM, eve, 70, '2026-11-14T10:00:00Z');
      for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
      const replicaDrains = replica.consumers.map((c) => c.drain());
      await Promise.all([...sub.consumers.map((c) => c.drain()), ...replicaDrains]);
    } finally {
      await replica.stop();
    }
    expect(await factCount()).toBe(consumed());
    const analyst = await sub.as(staff(['ANALYST']));
    const [, week2] = await kpis(analyst, 'WEEK', '2026-11-02T00:00:00Z', '2026-11-16T00:00:00Z');
    expect(week2).toEqual({ ...WEEK_2, pointsIssued: '95', purchases: 1, averagePointsPerPurchase: '70.00' });
  });

  it('rebuilt from position zero into empty tables give the same KPIs', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const before = await kpis(analyst, 'DAY', '2026-11-01T00:00:00Z', '2026-11-16T00:00:00Z');
    const stateBefore = (await states()).map(({ updated_at: _, ...row }) => row);
    await sub.db.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await kpis(analyst, 'DAY', '2026-11-01T00:00:00Z', '2026-11-16T00:00:00Z')).toEqual(before);
    expect((await states()).map(({ updated_at: _, ...row }) => row)).toEqual(stateBefore);
    expect(await factCount()).toBe(consumed());
  });
});
