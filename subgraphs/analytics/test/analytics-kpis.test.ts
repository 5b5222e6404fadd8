import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, ManualClock, type Viewer } from '@loyalty-graph/shared';
import { errorCodes, type startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { Kpis } from '../src/services/kpis';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * Issue 12's KPIs from known events (real PostgreSQL, events from in-memory feeds): activity
 * (active, churned, retention), frequency, basket, pending, redemption rate, referral conversion;
 * filters; definition versions; cohorts; success criteria. Every expected number is worked out
 * from the history below in the comments next to it.
 *
 * History (2026, all purchases in EUR; default window 90 days):
 * - ann: enrolled 01-05 (SELF, tier T1). Buys 01-10 (STORE, 100 pts pending, 100.00), posted 01-31;
 *   02-20 (ONLINE, 50 pts, 40.00); 03-15 (STORE, 20 pts, 20.00); 05-20 (STORE, 20 pts, 20.00). Redeems 60 on 02-25.
 * - bob: enrolled 01-20 through partner PA under referral R1 (T1). Buys 01-25 (STORE, funded by PA,
 *   30 pts pending, 60.00), returns 10 from pending 01-28, 20 posted 02-05. Promoted to T2 02-01.
 *   Buys 02-10 (STORE, 10 pts, 10.00). R1 qualifies 02-10.
 * - cat: enrolled 02-03 under referral R2 (T1). Buys 02-05 (ONLINE, 40 pts, 80.00). CLOSED 03-10.
 * - dan: enrolled 03-02 (T1), never buys.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000b1';
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000b2';
const T1 = randomUUID();
const T2 = randomUUID();
const PA = randomUUID();
const SEGMENT = randomUUID();
const [ann, bob, cat, dan] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const clock = new ManualClock(new Date('2026-04-15T00:00:00Z'));
// Analytics also reads the catalog's and partners' feeds (money facts): empty here.
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

const staff = (roles: ('ADMIN' | 'ANALYST' | 'AGENT')[], programId: string | null = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });
const member: Viewer = { ...ANONYMOUS, kind: 'MEMBER', programId: PROGRAM, memberId: ann, subject: 'idp|ann' };

const at = (iso: string) => new Date(iso);
const entryId = () => randomUUID();
function enrol(memberId: string, when: string, extra: { referralId?: string; partnerId?: string } = {}) {
  feeds.members.add(
    'MemberEnrolled',
    memberId,
    { programId: PROGRAM, memberId, channel: extra.partnerId ? 'PARTNER' : 'SELF', referralId: extra.referralId ?? null, enrolledAt: when, tierId: T1, partnerId: extra.partnerId ?? null },
    at(when),
  );
}
function buy(memberId: string, when: string, points: number, amount: string, channel: string, options: { pending?: boolean; partnerId?: string } = {}) {
  const purchaseId = randomUUID();
  feeds.ledger.add(
    'PointsAccrued',
    memberId,
    { programId: PROGRAM, memberId, purchaseId, points, statusPoints: points, pending: options.pending ?? false, occurredAt: when, partnerId: options.partnerId ?? null, amount, currency: 'EUR', channel, entryId: entryId() },
    at(when),
  );
  return purchaseId;
}
const ledgerEvent = (type: string, memberId: string, payload: Record<string, unknown>, when: string) => feeds.ledger.add(type, memberId, { programId: PROGRAM, memberId, ...payload, entryId: entryId() }, at(when));

const KPIS = `query($reps: [_Any!]!, $period: KpiPeriod!, $from: DateTime!, $to: DateTime!, $filter: KpiFilter) {
  _entities(representations: $reps) { ... on Program { kpis(period: $period, from: $from, to: $to, filter: $filter) {
    start definitionVersion activeWindowDays enrolled pointsIssued pointsRedeemed purchases active churned retentionRate purchaseFrequency
    averageBasket { amount currency } pointsPending redemptionRate referralConversion } } } }`;
type Bucket = {
  start: string;
  definitionVersion: number;
  activeWindowDays: number;
  enrolled: number;
  pointsIssued: string;
  pointsRedeemed: string;
  purchases: number;
  active: number;
  churned: number;
  retentionRate: string | null;
  purchaseFrequency: string | null;
  averageBasket: { amount: string; currency: string } | null;
  pointsPending: string;
  redemptionRate: string | null;
  referralConversion: string | null;
};
const reps = [{ __typename: 'Program', id: PROGRAM }];

async function kpis(as: Caller, from: string, to: string, filter?: Record<string, unknown>, period = 'MONTH'): Promise<Bucket[]> {
  const { _entities } = await as.data<{ _entities: { kpis: Bucket[] }[] }>(KPIS, { reps, period, from, to, filter });
  return _entities[0]!.kpis;
}
const month = (start: string, figures: Omit<Bucket, 'start' | 'definitionVersion' | 'activeWindowDays'>, version = 1, window = 90): Bucket => ({
  ...figures,
  start: `${start}T00:00:00.000Z`,
  definitionVersion: version,
  activeWindowDays: window,
});
const eur = (amount: string) => ({ amount, currency: 'EUR' });

// Worked out from the history at the top (window 90 days).
const JAN = month('2026-01-01', {
  enrolled: 2, // ann, bob
  pointsIssued: '120', // 100 + 30 − 10 returned
  pointsRedeemed: '0',
  purchases: 2,
  active: 2, // ann, bob bought in [2025-11-03, 02-01)
  churned: 0,
  retentionRate: null, // nobody active on 01-01
  purchaseFrequency: '1.00', // 2 / 2
  averageBasket: eur('80.00'), // (100 + 60) / 2
  pointsPending: '20', // +100 +30 −10 −100 posted
  redemptionRate: '0.0000', // 0 / 120
  referralConversion: '0.0000', // 0 qualified / 1 referred (bob)
});
const FEB = month('2026-02-01', {
  enrolled: 1, // cat
  pointsIssued: '100', // 50 + 10 + 40
  pointsRedeemed: '60',
  purchases: 3,
  active: 3, // ann, bob, cat (closed only on 03-10)
  churned: 0,
  retentionRate: '1.0000', // ann and bob active on 02-01 and 03-01
  purchaseFrequency: '1.00', // 3 / 3
  averageBasket: eur('43.33'), // (40 + 10 + 80) / 3
  pointsPending: '0', // 20 − 20 posted
  redemptionRate: '0.6000', // 60 / 100
  referralConversion: '1.0000', // R1 qualified / cat's R2 enrolment
});
const MAR = month('2026-03-01', {
  enrolled: 1, // dan
  pointsIssued: '20',
  pointsRedeemed: '0',
  purchases: 1,
  active: 2, // ann, bob; cat is CLOSED
  churned: 1, // cat
  retentionRate: '0.6667', // 2 of ann, bob, cat
  purchaseFrequency: '0.50', // 1 / 2
  averageBasket: eur('20.00'),
  pointsPending: '0',
  redemptionRate: '0.0000',
  referralConversion: null, // no referred enrolment
});
const APR = month('2026-04-01', {
  enrolled: 0,
  pointsIssued: '0',
  pointsRedeemed: '0',
  purchases: 0,
  active: 2, // ann (03-15), bob (02-10) within [01-31, 05-01)
  churned: 0,
  retentionRate: '1.0000',
  purchaseFrequency: '0.00',
  averageBasket: null,
  pointsPending: '0',
  redemptionRate: null,
  referralConversion: null,
});
// May under version 1 (90 days): ann and bob active on 05-01; on 06-01 only ann (03-15, 05-20): bob churns.
const MAY_V1 = month('2026-05-01', {
  enrolled: 0,
  pointsIssued: '20',
  pointsRedeemed: '0',
  purchases: 1,
  active: 1,
  churned: 1,
  retentionRate: '0.5000',
  purchaseFrequency: '1.00',
  averageBasket: eur('20.00'),
  pointsPending: '0',
  redemptionRate: '0.0000',
  referralConversion: null,
});
// May under version 2 (30 days): nobody bought in [04-01, 05-01); ann in [05-02, 06-01).
const MAY_V2 = month('2026-05-01', { ...MAY_V1, active: 1, churned: 0, retentionRate: null }, 2, 30);

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops, { clock })).sub;

  const R1 = randomUUID();
  enrol(ann, '2026-01-05T12:00:00Z');
  const annFirst = buy(ann, '2026-01-10T12:00:00Z', 100, '100.00', 'STORE', { pending: true });
  enrol(bob, '2026-01-20T12:00:00Z', { referralId: R1, partnerId: PA });
  const bobFirst = buy(bob, '2026-01-25T12:00:00Z', 30, '60.00', 'STORE', { pending: true, partnerId: PA });
  ledgerEvent('PointsReturned', bob, { purchaseId: bobFirst, points: 10, statusPoints: 10, fromPending: 10, fromPosted: 0, writtenOff: 0, statusFromPending: 10, statusFromPosted: 0, clawbackPolicy: 'WRITE_OFF', partnerId: PA }, '2026-01-28T12:00:00Z');
  ledgerEvent('PointsPosted', ann, { purchaseId: annFirst, points: 100, statusPoints: 100 }, '2026-01-31T12:00:00Z');
  feeds.members.add('TierChanged', bob, { programId: PROGRAM, memberId: bob, fromTierId: T1, toTierId: T2, direction: 'UP', reason: 'QUALIFIED', changedAt: '2026-02-01T00:00:00Z' });
  enrol(cat, '2026-02-03T12:00:00Z', { referralId: randomUUID() });
  ledgerEvent('PointsPosted', bob, { purchaseId: bobFirst, points: 20, statusPoints: 20 }, '2026-02-05T12:00:00Z');
  buy(cat, '2026-02-05T12:00:00Z', 40, '80.00', 'ONLINE');
  buy(bob, '2026-02-10T12:00:00Z', 10, '10.00', 'STORE');
  feeds.members.add('ReferralQualified', bob, { programId: PROGRAM, referralId: R1, referrerId: ann, refereeId: bob, referrerBonus: 0, refereeBonus: 0, qualifiedAt: '2026-02-10T12:00:00Z' });
  buy(ann, '2026-02-20T12:00:00Z', 50, '40.00', 'ONLINE');
  ledgerEvent('PointsRedeemed', ann, { holdId: randomUUID(), points: 60, status: 'CAPTURED' }, '2026-02-25T12:00:00Z');
  enrol(dan, '2026-03-02T12:00:00Z');
  feeds.members.add('MemberStatusChanged', cat, { programId: PROGRAM, memberId: cat, fromStatus: 'ACTIVE', toStatus: 'CLOSED', reason: 'asked to leave', changedAt: '2026-03-10T12:00:00Z' });
  buy(ann, '2026-03-15T12:00:00Z', 20, '20.00', 'STORE');
  buy(ann, '2026-05-20T12:00:00Z', 20, '20.00', 'STORE');
  // Another program in the same months: never in PROGRAM's figures.
  const stranger = randomUUID();
  feeds.members.add('MemberEnrolled', stranger, { programId: OTHER_PROGRAM, memberId: stranger, channel: 'SELF', referralId: null, enrolledAt: '2026-01-05T00:00:00Z', tierId: T1 }, at('2026-01-05T00:00:00Z'));
  feeds.ledger.add(
    'PointsAccrued',
    stranger,
    { programId: OTHER_PROGRAM, memberId: stranger, purchaseId: randomUUID(), points: 999, statusPoints: 999, pending: true, occurredAt: '2026-01-06T00:00:00Z', partnerId: PA, amount: '999.00', currency: 'EUR', channel: 'STORE', entryId: entryId() },
    at('2026-01-06T00:00:00Z'),
  );
  await drain();
  // ann is in the segment now (the segments part writes these tables; here they are written by hand).
  await sub.db.query(
    `INSERT INTO segments (id, program_id, name, visible_to_members, rules, windows_evaluated_at, created_at, updated_at) VALUES ($1, $2, 'Hand-made', false, '{}', now(), now(), now())`,
    [SEGMENT, PROGRAM],
  );
  await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, now())`, [PROGRAM, SEGMENT, ann]);
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('Program.kpis: activity, money, pending, rates', () => {
  it('computes every KPI of each month exactly from the events', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    expect(await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toEqual([JAN, FEB, MAR, APR, MAY_V1]);
  });

  it('counts pending points per day: the return takes from pending, the posting moves the rest', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const days = await kpis(analyst, '2026-01-27T00:00:00Z', '2026-02-06T00:00:00Z', undefined, 'DAY');
    expect(days.map((d) => [d.start.slice(5, 10), d.pointsPending])).toEqual([
      ['01-27', '130'], // ann 100 + bob 30
      ['01-28', '120'], // bob returned 10 from pending
      ['01-29', '120'],
      ['01-30', '120'],
      ['01-31', '20'], // ann's 100 posted
      ['02-01', '20'],
      ['02-02', '20'],
      ['02-03', '20'],
      ['02-04', '20'],
      ['02-05', '0'], // bob's 20 posted
    ]);
  });
});

describe('activity budget', () => {
  it('refuses activity that would outlast its budget with BAD_USER_INPUT instead of timing out, and answers once it can', async () => {
    const kpis = new Kpis(sub.db, undefined, 200);
    const plan = () => kpis.buckets(PROGRAM, 'MONTH', at('2026-01-01T00:00:00Z'), at('2026-03-01T00:00:00Z'));
    const blocked = await plan();
    // Another transaction holds point_facts: the activity query waits past its budget.
    const holder = sub.db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`LOCK TABLE point_facts IN ACCESS EXCLUSIVE MODE`);
      await expect(blocked[0]!.activity()).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await (await plan())[1]!.activity()).toEqual({ active: 3, activeAtStart: 2, retained: 2, churned: 0 }); // February
  });
});

describe('daily rollups', () => {
  it('give the same figures as the facts (a segment of every member forces the facts path)', async () => {
    const everyone = randomUUID();
    for (const memberId of [ann, bob, cat, dan]) {
      await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, now())`, [PROGRAM, everyone, memberId]);
    }
    const analyst = await sub.as(staff(['ANALYST']));
    for (const period of ['DAY', 'WEEK', 'MONTH']) {
      const fromDays = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z', undefined, period);
      const fromFacts = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z', { segmentId: everyone }, period);
      expect(fromFacts, period).toEqual(fromDays);
      expect(fromDays.reduce((sum, b) => sum + BigInt(b.pointsIssued), 0n), period).toBe(260n); // 120 + 100 + 20 + 20
    }
  });
});

describe('Program.kpis filters', () => {
  it('by tier at the time of the event: bob’s February purchase is T2, his January one (and its return and posting) T1', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const [jan2, feb2] = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', { tierId: T2 });
    expect(jan2).toMatchObject({ enrolled: 0, purchases: 0, pointsIssued: '0', pointsPending: '0', active: 0 });
    // Only bob's 02-10 purchase was made in T2; he qualified R1 while in T2, but enrolled (in T1) in January.
    expect(feb2).toMatchObject({ enrolled: 0, purchases: 1, pointsIssued: '10', averageBasket: eur('10.00'), active: 1, churned: 0, retentionRate: null, purchaseFrequency: '1.00', pointsPending: '0', referralConversion: null });
    const [jan1, feb1] = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', { tierId: T1 });
    expect(jan1).toEqual(JAN);
    // Bob's posting on 02-05 (after his promotion) follows his January purchase: T1 pending goes 20 → 0.
    expect(feb1).toMatchObject({ enrolled: 1, purchases: 2, pointsIssued: '90', pointsPending: '0', active: 3, churned: 0, retentionRate: '1.0000', referralConversion: '0.0000' });
  });

  it('by partner: its funded purchase, return and posting; enrolments and qualifications of members who came through it', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const [jan, feb] = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', { partnerId: PA });
    expect(jan).toMatchObject({ enrolled: 1, purchases: 1, pointsIssued: '20', pointsPending: '20', active: 1, averageBasket: eur('60.00'), referralConversion: '0.0000' });
    // bob's posting brings pending to 0; his 02-10 purchase was not funded by PA; R1 (bob) qualified.
    expect(feb).toMatchObject({ enrolled: 0, purchases: 0, pointsIssued: '0', pointsPending: '0', active: 1, churned: 0, retentionRate: '1.0000', referralConversion: null });
  });

  it('by channel: purchases of that channel only, enrolments unaffected, no redemptions (they have no channel)', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const [jan, feb] = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', { channel: 'ONLINE' });
    expect(jan).toMatchObject({ enrolled: 2, purchases: 0, pointsIssued: '0', active: 0, averageBasket: null, referralConversion: '0.0000' });
    expect(feb).toMatchObject({ enrolled: 1, purchases: 2, pointsIssued: '90', pointsRedeemed: '0', averageBasket: eur('60.00'), active: 2, purchaseFrequency: '1.00', redemptionRate: '0.0000' });
  });

  it('by segment: members in it now (ann)', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    const [jan, feb] = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', { segmentId: SEGMENT });
    expect(jan).toMatchObject({ enrolled: 1, purchases: 1, pointsIssued: '100', pointsPending: '0', active: 1, averageBasket: eur('100.00'), referralConversion: null });
    expect(feb).toMatchObject({ purchases: 1, pointsIssued: '50', pointsRedeemed: '60', redemptionRate: '1.2000', active: 1, churned: 0, retentionRate: '1.0000' });
  });

  it('refuses malformed filters with BAD_USER_INPUT', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    for (const filter of [{ tierId: 'gold' }, { segmentId: '1' }, { channel: 'in store; DROP TABLE' }]) {
      const res = await analyst.send(KPIS, { reps, period: 'MONTH', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', filter });
      expect(errorCodes(res), JSON.stringify(filter)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

const CONFIGURE = `mutation($input: ConfigureAnalyticsInput!) { configureAnalytics(input: $input) { settings { version activeWindowDays effectiveFrom } userErrors { code message } } }`;
const SETTINGS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program {
  analyticsSettings { version activeWindowDays effectiveFrom }
  kpiDefinitions { kpi version effectiveFrom activeWindowDays definition } } } }`;

describe('versioned definitions', () => {
  it('computes buckets from a change’s effectiveFrom with the new window; earlier buckets keep version 1', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    const analyst = await sub.as(staff(['ANALYST']));
    const before = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z');
    const input = { programId: PROGRAM, idempotencyKey: 'window-30-may', activeWindowDays: 30, effectiveFrom: '2026-05-01T00:00:00Z' };
    const made = await admin.data<{ configureAnalytics: { settings: unknown; userErrors: unknown[] } }>(CONFIGURE, { input });
    expect(made.configureAnalytics).toEqual({ settings: { version: 2, activeWindowDays: 30, effectiveFrom: '2026-05-01T00:00:00.000Z' }, userErrors: [] });
    // A retry with the same key makes nothing new, even once effectiveFrom has passed.
    expect((await admin.data<{ configureAnalytics: { settings: unknown } }>(CONFIGURE, { input })).configureAnalytics.settings).toEqual(made.configureAnalytics.settings);
    clock.set(new Date('2026-05-02T00:00:00Z'));
    try {
      expect((await admin.data<{ configureAnalytics: { settings: unknown } }>(CONFIGURE, { input })).configureAnalytics.settings).toEqual(made.configureAnalytics.settings);
    } finally {
      clock.set(new Date('2026-04-15T00:00:00Z'));
    }

    const after = await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z');
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4));
    expect(after).toEqual([JAN, FEB, MAR, APR, MAY_V2]);

    const { _entities } = await analyst.data<{ _entities: { analyticsSettings: unknown[]; kpiDefinitions: { kpi: string; version: number; definition: string }[] }[] }>(SETTINGS, { reps });
    expect(_entities[0]!.analyticsSettings).toEqual([
      { version: 1, activeWindowDays: 90, effectiveFrom: null },
      { version: 2, activeWindowDays: 30, effectiveFrom: '2026-05-01T00:00:00.000Z' },
    ]);
    const definitions = _entities[0]!.kpiDefinitions;
    expect(definitions).toHaveLength(28); // 14 KPIs × 2 versions
    expect(definitions.find((d) => d.kpi === 'ACTIVE' && d.version === 1)!.definition).toContain('[T − 90 days, T)');
    expect(definitions.find((d) => d.kpi === 'ACTIVE' && d.version === 2)!.definition).toContain('[T − 30 days, T)');
  });

  it('refuses a change that would rewrite published buckets, a window out of range, a reused key with other values, and non-admins', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    for (const input of [
      { programId: PROGRAM, activeWindowDays: 30, effectiveFrom: '2026-04-14T23:59:59Z' }, // before the clock's now
      { programId: PROGRAM, activeWindowDays: 0, effectiveFrom: '2026-07-01T00:00:00Z' },
      { programId: PROGRAM, activeWindowDays: 731, effectiveFrom: '2026-07-01T00:00:00Z' },
      { programId: PROGRAM, idempotencyKey: 'window-30-may', activeWindowDays: 60, effectiveFrom: '2026-05-01T00:00:00Z' },
      { programId: 'not-an-id', activeWindowDays: 30, effectiveFrom: '2026-07-01T00:00:00Z' },
    ]) {
      expect(errorCodes(await admin.send(CONFIGURE, { input })), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
    }
    for (const viewer of [staff(['ANALYST']), staff(['ADMIN'], OTHER_PROGRAM), member]) {
      const res = await (await sub.as(viewer)).send(CONFIGURE, { input: { programId: PROGRAM, activeWindowDays: 30, effectiveFrom: '2026-07-01T00:00:00Z' } });
      expect(errorCodes(res), viewer.kind).toEqual(['FORBIDDEN']);
    }
    const { _entities } = await admin.data<{ _entities: { analyticsSettings: unknown[] }[] }>(SETTINGS, { reps });
    expect(_entities[0]!.analyticsSettings).toHaveLength(2);
  });

  it('gives two changes at once consecutive versions, and the default window is 90 days', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    const results = await Promise.all(
      ['2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z'].map((effectiveFrom) =>
        admin.data<{ configureAnalytics: { settings: { version: number; activeWindowDays: number } } }>(CONFIGURE, { input: { programId: PROGRAM, effectiveFrom } }),
      ),
    );
    expect(results.map((r) => r.configureAnalytics.settings.version).sort()).toEqual([3, 4]);
    expect(results.map((r) => r.configureAnalytics.settings.activeWindowDays)).toEqual([90, 90]);
    // Published history still unchanged.
    const analyst = await sub.as(staff(['ANALYST']));
    expect(await kpis(analyst, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toEqual([JAN, FEB, MAR, APR, MAY_V2]);
  });
});

const COHORTS = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!, $months: Int!, $filter: KpiFilter) {
  _entities(representations: $reps) { ... on Program { cohortRetention(from: $from, to: $to, months: $months, filter: $filter) {
    month size retention { offset start purchasers share } } } } }`;
type Cohort = { month: string; size: number; retention: { offset: number; start: string; purchasers: number; share: string | null }[] };

describe('Program.cohortRetention', () => {
  const cohorts = async (as: Caller, variables: Record<string, unknown>) => (await as.data<{ _entities: { cohortRetention: Cohort[] }[] }>(COHORTS, { reps, ...variables }))._entities[0]!.cohortRetention;
  const shares = (rows: Cohort[]) => rows.map((c) => [c.month.slice(0, 7), c.size, ...c.retention.map((m) => m.share)]);

  it('gives each enrolment month’s size and the share who bought 0, 1, 2 months later (null: not begun yet)', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    expect(shares(await cohorts(analyst, { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', months: 2 }))).toEqual([
      ['2026-01', 2, '1.0000', '1.0000', '0.5000'], // ann and bob in Jan and Feb; ann in Mar
      ['2026-02', 1, '1.0000', '0.0000', '0.0000'], // cat in Feb only
      ['2026-03', 1, '0.0000', '0.0000', null], // dan never; May not begun on 04-15
    ]);
  });

  it('applies the filter: cohorts by their enrolment, purchases by their channel', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    expect(shares(await cohorts(analyst, { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', months: 2, filter: { channel: 'ONLINE' } }))).toEqual([['2026-01', 2, '0.0000', '0.5000', '0.0000']]);
    expect(shares(await cohorts(analyst, { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', months: 1, filter: { partnerId: PA } }))).toEqual([['2026-01', 1, '1.0000', '0.0000']]);
  });

  it('refuses too many months or cohorts (BAD_USER_INPUT) and members (FORBIDDEN)', async () => {
    const analyst = await sub.as(staff(['ANALYST']));
    expect(errorCodes(await analyst.send(COHORTS, { reps, from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', months: 37 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await analyst.send(COHORTS, { reps, from: '2020-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', months: 1 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await (await sub.as(member)).send(COHORTS, { reps, from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', months: 1 }))).toEqual(['FORBIDDEN']);
  });
});

const DEFINE = `mutation($input: DefineSuccessCriterionInput!) { defineSuccessCriterion(input: $input) {
  criterion { id activityKind activityId activityName kpi comparison target segmentId period } userErrors { code } } }`;
const READOUT = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $reps) { ... on Program {
  successCriteria(from: $from, to: $to) { criterion { activityName kpi segmentId } target value met periods { start value met definitionVersion } } } } }`;
type Readout = { criterion: { activityName: string; kpi: string; segmentId: string | null }; target: string; value: string | null; met: boolean; periods: { start: string; value: string | null; met: boolean }[] };

describe('success criteria', () => {
  const offer = randomUUID();
  const benefit = randomUUID();

  it('reads each criterion over the range and per period, for its segment', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    const purchases = { programId: PROGRAM, activity: { kind: 'OFFER', id: offer, name: 'Spring double points' }, kpi: 'PURCHASES', comparison: 'AT_LEAST', target: '3', period: 'MONTH' };
    const redemption = { programId: PROGRAM, activity: { kind: 'BENEFIT', id: benefit, name: 'Gold lounge' }, kpi: 'REDEMPTION_RATE', comparison: 'AT_MOST', target: '0.5', segmentId: SEGMENT, period: 'MONTH' };
    const first = await admin.data<{ defineSuccessCriterion: { criterion: { id: string; target: string }; userErrors: unknown[] } }>(DEFINE, { input: purchases });
    expect(first.defineSuccessCriterion.userErrors).toEqual([]);
    await admin.data(DEFINE, { input: { ...redemption, target: '0.1' } });
    const active = { programId: PROGRAM, activity: { kind: 'SERVICE', id: randomUUID(), name: 'Concierge' }, kpi: 'ACTIVE', comparison: 'AT_LEAST', target: '3', period: 'MONTH' };
    expect((await admin.data<{ defineSuccessCriterion: { userErrors: unknown[] } }>(DEFINE, { input: active })).defineSuccessCriterion.userErrors).toEqual([]);
    // Defining it again replaces the target: still one criterion for that activity, KPI and segment.
    const again = await admin.data<{ defineSuccessCriterion: { criterion: { id: string; target: string } } }>(DEFINE, { input: redemption });
    expect(again.defineSuccessCriterion.criterion.target).toBe('0.5');

    const analyst = await sub.as(staff(['ANALYST']));
    const { _entities } = await analyst.data<{ _entities: { successCriteria: Readout[] }[] }>(READOUT, { reps, from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    const readouts = _entities[0]!.successCriteria;
    expect(readouts.map((r) => [r.criterion.activityName, r.target, r.value, r.met, r.periods.map((p) => [p.start.slice(0, 7), p.value, p.met])])).toEqual([
      // ann only: (0 + 60) / (100 + 50) over the range; January 0 / 100; February 60 / 50.
      [
        'Gold lounge',
        '0.5',
        '0.4000',
        true,
        [
          ['2026-01', '0.0000', true],
          ['2026-02', '1.2000', false],
        ],
      ],
      // Everyone: 2 + 3 purchases over the range; per month only February reaches 3.
      [
        'Spring double points',
        '3',
        '5',
        true,
        [
          ['2026-01', '2', false],
          ['2026-02', '3', true],
        ],
      ],
      // Active at the range's end (03-01): ann, bob, cat; at January's end only ann and bob.
      [
        'Concierge',
        '3',
        '3',
        true,
        [
          ['2026-01', '2', false],
          ['2026-02', '3', true],
        ],
      ],
    ]);
  });

  it('refuses analysts and other programs (FORBIDDEN) and malformed targets or ids (BAD_USER_INPUT)', async () => {
    const input = { programId: PROGRAM, activity: { kind: 'SERVICE', id: randomUUID(), name: 'Concierge' }, kpi: 'ACTIVE', comparison: 'AT_LEAST', target: '10', period: 'MONTH' };
    for (const viewer of [staff(['ANALYST']), staff(['ADMIN'], OTHER_PROGRAM), member]) {
      expect(errorCodes(await (await sub.as(viewer)).send(DEFINE, { input })), viewer.kind).toEqual(['FORBIDDEN']);
    }
    const admin = await sub.as(staff(['ADMIN']));
    for (const bad of [{ ...input, target: '0.1234567' }, { ...input, activity: { ...input.activity, id: 'concierge' } }, { ...input, activity: { ...input.activity, name: ' ' } }, { ...input, segmentId: 'vip' }]) {
      expect(errorCodes(await admin.send(DEFINE, { input: bad })), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
    }
    expect(errorCodes(await admin.send(READOUT, { reps, from: '2026-03-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a segment the program does not have (NOT_FOUND) and an archived one (SEGMENT_ARCHIVED), instead of measuring nobody', async () => {
    const admin = await sub.as(staff(['ADMIN']));
    const input = { programId: PROGRAM, activity: { kind: 'SERVICE', id: randomUUID(), name: 'Concierge' }, kpi: 'ACTIVE', comparison: 'AT_LEAST', target: '10', period: 'MONTH' };
    const [foreign, archived] = [randomUUID(), randomUUID()];
    await sub.db.query(
      `INSERT INTO segments (id, program_id, name, visible_to_members, rules, status, windows_evaluated_at, created_at, updated_at, archived_at)
       VALUES ($1, $2, 'Theirs', false, '{}', 'ACTIVE', now(), now(), now(), null), ($3, $4, 'Retired', false, '{}', 'ARCHIVED', now(), now(), now(), now())`,
      [foreign, OTHER_PROGRAM, archived, PROGRAM],
    );
    for (const segmentId of [foreign, randomUUID()]) expect(errorCodes(await admin.send(DEFINE, { input: { ...input, segmentId } }))).toEqual(['NOT_FOUND']);
    const refused = await admin.data<{ defineSuccessCriterion: { criterion: unknown; userErrors: { code: string }[] } }>(DEFINE, { input: { ...input, segmentId: archived } });
    expect(refused.defineSuccessCriterion).toEqual({ criterion: null, userErrors: [{ code: 'SEGMENT_ARCHIVED' }] });
  });
});
