import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph } from '@loyalty-graph/testing';
import { analyticsSubgraph } from '../src/server';
import { settingsAt, type SettingsVersion } from '../src/domain/kpi-definitions';
import { bucketsBetween, type Period } from '../src/domain/periods';
import { MemberDays1797001200000 } from '../src/migrations/1797001200000-member-days';
import { ActivityRetained1797020000000 } from '../src/migrations/1797020000000-activity-retained';
import { Kpis, type KpiBucket } from '../src/services/kpis';
import { analyticsFeeds, startAnalytics } from './support';
import { FACT_TABLES } from '../src/services/facts';
import { seededRandom } from '../src/domain/statistics';

/**
 * The activity rollups (activity_days, and activity_retained for the calendar buckets longer than
 * their window) give exactly what the scan of purchases gives, on a random
 * history (seeded: a failure replays): purchases delivered out of order, returns, members CLOSED
 * (some before purchases arrive), a few regular buyers, three settings versions (90, 30 and 7 days) of which two are
 * added after half the history was consumed (their windows are then built from the facts), a
 * redelivery of everything, and a rebuild into emptied tables. On the same history the daily
 * rollups (point_days, purchase_days, member_days) give what the facts give, and enrolments and
 * referrals what the history says.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000c1';
/** Enrolments in another program on the same days: not counted in PROGRAM's days. */
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000c2';
/** A segment of every member of the history: its filter makes Kpis read the facts, not the days. */
const EVERYONE = '00000000-0000-4000-8000-0000000000e1';
const SEED = 20261130;
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let peers: Record<string, string>;
const clock = new ManualClock(new Date('2027-02-01T00:00:00Z'));
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

/** The seeded PRNG of the simulations (mulberry32), so a failure can be replayed from its seed. */
const random = seededRandom;
const next = random(SEED);
const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * 86_400_000;
const instant = () => new Date(YEAR_START + Math.floor(next() * YEAR_MS));
/** The members' events draw from their own sequence, so the purchases' history stays as it was. */
const nextMember = random(SEED + 1);
const DAY_MS = 86_400_000;
const memberIds: string[] = [];
/** PROGRAM's enrolments and qualified referrals as the history makes them: what every bucket must count. */
const enrolments: { at: number; referred: boolean }[] = [];
const qualifications: number[] = [];

type Pending = () => void;
/** The history as deliveries, shuffled (a purchase may arrive before an earlier one, or after the closing). */
function history(): Pending[] {
  const events: Pending[] = [];
  for (let i = 0; i < 60; i++) {
    const memberId = randomUUID();
    memberIds.push(memberId);
    const purchases = Math.floor(next() * 12);
    for (let p = 0; p < purchases; p++) {
      const when = instant().toISOString();
      const purchaseId = randomUUID();
      events.push(() =>
        feeds.ledger.add(
          'PointsAccrued',
          memberId,
          { programId: PROGRAM, memberId, purchaseId, points: 10, statusPoints: 10, pending: false, occurredAt: when, partnerId: null, amount: '10.00', currency: 'EUR', channel: 'STORE', entryId: randomUUID() },
          new Date(when),
        ),
      );
      if (next() < 0.15) {
        const returned = new Date(Date.parse(when) + 86_400_000).toISOString();
        events.push(() =>
          feeds.ledger.add(
            'PointsReturned',
            memberId,
            { programId: PROGRAM, memberId, purchaseId, points: 10, statusPoints: 10, fromPending: 0, fromPosted: 10, writtenOff: 0, statusFromPending: 0, statusFromPosted: 10, clawbackPolicy: 'WRITE_OFF', partnerId: null, entryId: randomUUID() },
            new Date(returned),
          ),
        );
      }
    }
    if (next() < 0.2) {
      const changedAt = (next() < 0.3 ? new Date(Math.ceil(instant().getTime() / 86_400_000) * 86_400_000) : instant()).toISOString();
      events.push(() => feeds.members.add('MemberStatusChanged', memberId, { programId: PROGRAM, memberId, fromStatus: 'ACTIVE', toStatus: 'CLOSED', reason: 'asked to leave', changedAt }));
    }
  }
  // A few regulars buying every 3 to 6 days from late September: members active at both ends of the
  // months and the quarter under the 7-day version, one of them CLOSED in November.
  for (const [i, every] of [3, 5, 6, 6].entries()) {
    const memberId = randomUUID();
    memberIds.push(memberId);
    for (let at = Date.parse('2026-09-20T12:00:00Z') + i * 3_600_000; at < Date.parse('2027-01-01T00:00:00Z'); at += every * 86_400_000) {
      const when = new Date(at).toISOString();
      events.push(() =>
        feeds.ledger.add(
          'PointsAccrued',
          memberId,
          { programId: PROGRAM, memberId, purchaseId: randomUUID(), points: 10, statusPoints: 10, pending: false, occurredAt: when, partnerId: null, amount: '10.00', currency: 'EUR', channel: 'STORE', entryId: randomUUID() },
          new Date(when),
        ),
      );
    }
    if (i === 3) {
      events.push(() =>
        feeds.members.add('MemberStatusChanged', memberId, { programId: PROGRAM, memberId, fromStatus: 'ACTIVE', toStatus: 'CLOSED', reason: 'asked to leave', changedAt: '2026-11-15T10:00:00.000Z' }),
      );
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/**
 * Members' enrolments (most of the history's members; some never seen enrolling), a third of them
 * at exactly midnight (a bucket's edge), with a referral for some, and referrals qualifying up to
 * 60 days later; shuffled among themselves.
 */
function memberHistory(): Pending[] {
  const events: Pending[] = [];
  const at = () => {
    const when = YEAR_START + Math.floor(nextMember() * YEAR_MS);
    return nextMember() < 0.3 ? Math.floor(when / DAY_MS) * DAY_MS : when;
  };
  for (const memberId of memberIds) {
    if (nextMember() < 0.1) continue;
    const enrolledAt = at();
    const referralId = nextMember() < 0.4 ? randomUUID() : null;
    enrolments.push({ at: enrolledAt, referred: referralId !== null });
    const enrolledIso = new Date(enrolledAt).toISOString();
    events.push(() =>
      feeds.members.add('MemberEnrolled', memberId, { programId: PROGRAM, memberId, channel: 'SELF', referralId, enrolledAt: enrolledIso, tierId: null, partnerId: null }, new Date(enrolledAt)),
    );
    if (nextMember() < 0.3) {
      const other = randomUUID();
      events.push(() =>
        feeds.members.add('MemberEnrolled', other, { programId: OTHER_PROGRAM, memberId: other, channel: 'SELF', referralId: randomUUID(), enrolledAt: enrolledIso, tierId: null, partnerId: null }, new Date(enrolledAt)),
      );
    }
    if (referralId && nextMember() < 0.6) {
      const qualifiedAt = nextMember() < 0.3 ? Math.ceil(enrolledAt / DAY_MS) * DAY_MS + DAY_MS : enrolledAt + Math.floor(nextMember() * 60 * DAY_MS);
      qualifications.push(qualifiedAt);
      const payload = { programId: PROGRAM, referralId, referrerId: randomUUID(), refereeId: memberId, referrerBonus: 0, refereeBonus: 0, qualifiedAt: new Date(qualifiedAt).toISOString() };
      events.push(() => feeds.members.add('ReferralQualified', memberId, payload, new Date(qualifiedAt)));
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(nextMember() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/** Two delivery orders merged at random (each keeps its own order). */
function interleave(a: Pending[], b: Pending[]): Pending[] {
  const merged: Pending[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const fromA = j >= b.length || (i < a.length && nextMember() < (a.length - i) / (a.length - i + b.length - j));
    merged.push(fromA ? a[i++]! : b[j++]!);
  }
  return merged;
}

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

async function versions(): Promise<SettingsVersion[]> {
  const rows = (await sub.db.query(`SELECT version, active_window_days, effective_from FROM analytics_settings WHERE program_id = $1`, [PROGRAM])) as {
    version: number;
    active_window_days: number;
    effective_from: Date;
  }[];
  return rows.map((r) => ({ version: r.version, activeWindowDays: r.active_window_days, effectiveFrom: new Date(r.effective_from) }));
}

/**
 * Rollups and scan, bucket by bucket, for every period over the year (DAY over two months, YEAR over
 * three years: one before the history and one after). Every calendar bucket is read from the
 * rollups, those longer than their window too (Q2–Q4 and the YEAR under 90 days, Q4 and the
 * months from October under 7 days, the 31-day months under 30).
 */
async function compare(): Promise<{ compared: number; long: number; retainedOverLong: number[] }> {
  const kpis = new Kpis(sub.db);
  const inForce = await versions();
  let compared = 0;
  let long = 0;
  /** The windows with a long bucket someone is retained over. */
  const retainedOverLong = new Set<number>();
  const spans: [Period, string, string][] = [
    ['DAY', '2026-06-15T00:00:00Z', '2026-08-15T00:00:00Z'],
    ['WEEK', '2026-01-05T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['MONTH', '2026-01-01T00:00:00Z', '2027-02-01T00:00:00Z'],
    ['QUARTER', '2026-01-01T00:00:00Z', '2027-04-01T00:00:00Z'],
    ['YEAR', '2025-01-01T00:00:00Z', '2028-01-01T00:00:00Z'],
  ];
  for (const [period, from, to] of spans) {
    const planned = bucketsBetween(period, new Date(from), new Date(to));
    if (!planned.ok) throw new Error(planned.message);
    for (const bucket of planned.buckets) {
      const windows = [settingsAt(inForce, bucket.start).activeWindowDays];
      const rolled = await kpis.rolledUpActivity(PROGRAM, [bucket], windows);
      const scanned = await kpis.scannedActivity(PROGRAM, [bucket], windows);
      if ((bucket.end.getTime() - bucket.start.getTime()) / 86_400_000 > windows[0]!) {
        long++;
        if ((scanned.get(bucket.start.getTime())?.retained ?? 0) > 0) retainedOverLong.add(windows[0]!);
      }
      const empty = { active: 0, activeAtStart: 0, retained: 0, churned: 0 };
      expect({ period, start: bucket.start, ...(rolled?.get(bucket.start.getTime()) ?? { missing: true }) }).toEqual({ period, start: bucket.start, ...(scanned.get(bucket.start.getTime()) ?? empty) });
      compared++;
    }
  }
  return { compared, long, retainedOverLong: [...retainedOverLong].sort((a, b) => a - b) };
}

/** The long buckets' counts kept (non-zero rows). */
const retainedRows = () =>
  sub.db.query(`SELECT window_days, from_day, to_day, retained FROM activity_retained WHERE program_id = $1 AND retained <> 0 ORDER BY 1, 2, 3`, [PROGRAM]);

/**
 * Every figure but activity, bucket by bucket, from the daily rollups (no filter) and from the
 * facts (the segment of everyone); enrolments and referrals also against the history itself.
 */
async function compareDays(): Promise<number> {
  const kpis = new Kpis(sub.db);
  const figures = ({ activity: _, ...rest }: KpiBucket) => rest;
  const counted = (b: KpiBucket) => ({ start: b.start, enrolled: b.enrolled, referred: b.referredEnrolments, qualified: b.referralsQualified });
  const within = (at: number, b: KpiBucket) => at >= b.start.getTime() && at < b.end.getTime();
  let compared = 0;
  const spans: [Period, string, string][] = [
    ['DAY', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['WEEK', '2025-12-29T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['MONTH', '2026-01-01T00:00:00Z', '2027-04-01T00:00:00Z'],
  ];
  for (const [period, from, to] of spans) {
    const fromDays = await kpis.buckets(PROGRAM, period, new Date(from), new Date(to));
    const fromFacts = await kpis.buckets(PROGRAM, period, new Date(from), new Date(to), { segmentId: EVERYONE });
    expect(fromDays.map(figures), period).toEqual(fromFacts.map(figures));
    const history = fromDays.map((b) => ({
      start: b.start,
      enrolled: enrolments.filter((e) => within(e.at, b)).length,
      referred: enrolments.filter((e) => e.referred && within(e.at, b)).length,
      qualified: qualifications.filter((at) => within(at, b)).length,
    }));
    expect(fromDays.map(counted), period).toEqual(history);
    compared += fromDays.length;
  }
  return compared;
}

beforeAll(async () => {
  ({ sub, peers } = await startAnalytics(feeds, stops, { clock }));
  const events = interleave(history(), memberHistory());
  for (const memberId of memberIds) {
    await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, now())`, [PROGRAM, EVERYONE, memberId]);
  }
  const half = Math.floor(events.length / 2);
  for (const add of events.slice(0, half)) add();
  await drain();
  // Two more versions once half the history is in: the consumer builds their windows from the facts.
  await sub.db.query(
    `INSERT INTO analytics_settings (program_id, version, active_window_days, effective_from, created_by, created_at)
     VALUES ($1, 2, 30, '2026-07-01T00:00:00Z', 'test', now()), ($1, 3, 7, '2026-10-01T00:00:00Z', 'test', now())`,
    [PROGRAM],
  );
  for (const add of events.slice(half)) add();
  await drain();
}, 120_000);

afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('activity rollups', () => {
  it('equal the scan of purchases on a random history, for every period and version', async () => {
    const built = (await sub.db.query(`SELECT window_days FROM activity_windows WHERE program_id = $1 ORDER BY window_days`, [PROGRAM])) as { window_days: number }[];
    expect(built.map((r) => r.window_days)).toEqual([7, 8, 14, 30, 31, 37, 58, 59, 60, 90, 91, 97, 118, 119, 120, 121, 180]);
    const builtLong = (await sub.db.query(`SELECT window_days FROM activity_retained_windows WHERE program_id = $1 ORDER BY window_days`, [PROGRAM])) as { window_days: number }[];
    expect(builtLong.map((r) => r.window_days)).toEqual([7, 30, 90]);
    const { compared, long, retainedOverLong } = await compare();
    expect(compared).toBeGreaterThan(100);
    expect(long).toBeGreaterThan(8);
    expect(retainedOverLong).toEqual([7, 30, 90]);
    // Long buckets retain someone (not a vacuous equality), under each version's window.
    const kept = (await retainedRows()) as { window_days: number }[];
    expect(new Set(kept.map((r) => r.window_days))).toEqual(new Set([7, 30, 90]));
    // Not a vacuous equality: the history makes members active, churn and close.
    const scanned = await new Kpis(sub.db).scannedActivity(PROGRAM, [{ start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-07-01T00:00:00Z') }], [90]);
    const june = scanned.get(Date.parse('2026-06-01T00:00:00Z'))!;
    expect(june.active).toBeGreaterThan(5);
    expect(june.churned).toBeGreaterThan(0);
  }, 120_000);

  it('daily rollups equal the facts, and enrolments and referrals the history, per DAY, WEEK and MONTH', async () => {
    expect(await compareDays()).toBeGreaterThan(400);
    // Not a vacuous equality: the history has enrolments, referred ones and qualifications, some at midnight.
    expect(enrolments.length).toBeGreaterThan(40);
    expect(enrolments.filter((e) => e.referred).length).toBeGreaterThan(10);
    expect(qualifications.length).toBeGreaterThan(5);
    expect(enrolments.filter((e) => e.at % DAY_MS === 0).length).toBeGreaterThan(5);
  }, 120_000);

  it('serve Program.kpis buckets from the rollups, the QUARTERs of 91 and 92 days and the YEAR too', async () => {
    const kpis = new Kpis(sub.db);
    for (const period of ['MONTH', 'QUARTER', 'YEAR'] as const) {
      const buckets = await kpis.buckets(PROGRAM, period, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
      const scanned = await kpis.scannedActivity(PROGRAM, buckets, buckets.map(() => 90));
      for (const bucket of buckets) {
        expect({ period, start: bucket.start, ...(await bucket.activity()) }).toEqual({ period, start: bucket.start, ...scanned.get(bucket.start.getTime())! });
      }
    }
  });

  it('leave a span longer than its window that is no calendar bucket (a criterion\'s range) to the scan', async () => {
    const kpis = new Kpis(sub.db);
    const range = { start: new Date('2026-02-10T00:00:00Z'), end: new Date('2026-06-20T00:00:00Z') };
    expect(await kpis.rolledUpActivity(PROGRAM, [range], [90])).toBeNull();
    const [whole] = await kpis.compute(PROGRAM, 'QUARTER', [range], {});
    const scanned = await kpis.scannedActivity(PROGRAM, [range], [90]);
    expect(await whole!.activity()).toEqual(scanned.get(range.start.getTime()));
    expect(scanned.get(range.start.getTime())!.retained).toBeGreaterThan(0);
  });

  it('do not move when every event is delivered again', async () => {
    const before = await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM]);
    const daysBefore = await sub.db.query(`SELECT * FROM member_days ORDER BY program_id, day`);
    const retainedBefore = await retainedRows();
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM])).toEqual(before);
    expect(await retainedRows()).toEqual(retainedBefore);
    // A redelivered enrolment or qualification is not counted again.
    expect(await sub.db.query(`SELECT * FROM member_days ORDER BY program_id, day`)).toEqual(daysBefore);
    expect(await compareDays()).toBeGreaterThan(400);
  }, 120_000);

  it('rebuilt into emptied tables, one event at a time, equal the build from the facts and the scan', async () => {
    const built = await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM]);
    const builtRetained = await retainedRows();
    await sub.db.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    // Rebuilt from an empty program, every window was built once and then moved event by event.
    expect(await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM])).toEqual(built);
    // The long buckets too: the 30- and 7-day ones were built from half the history, now kept event by event.
    expect(await retainedRows()).toEqual(builtRetained);
    expect((await compare()).compared).toBeGreaterThan(100);
    expect(await compareDays()).toBeGreaterThan(400);
  }, 120_000);

  it('rebuilt by two replicas at once, members and ledger consumers together, equal what one consumer kept', async () => {
    // Each replica's lanes sum their transactions' additions to the same days (atCommit) and write
    // them just before the commit: none is lost or doubled when four of them race on the same rows.
    const tables = ['point_days', 'purchase_days', 'member_days', 'activity_days', 'activity_retained'] as const;
    const snapshot = async () => {
      const rows: Record<string, unknown[]> = {};
      for (const table of tables) {
        const nonZero = table === 'activity_days' ? 'WHERE delta <> 0' : table === 'activity_retained' ? 'WHERE retained <> 0' : '';
        rows[table] = (await sub.db.query(`SELECT * FROM ${table} ${nonZero} ORDER BY 1, 2, 3`)) as unknown[];
      }
      return rows;
    };
    const kept = await snapshot();
    expect(kept['point_days']!.length).toBeGreaterThan(100);
    const replica = await startTestSubgraph(analyticsSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret: sub.internalSecret, peers, database: sub.database, clock });
    try {
      await sub.db.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
      for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
      await Promise.all([...sub.consumers, ...replica.consumers].map((consumer) => consumer.drain()));
    } finally {
      await replica.stop();
    }
    expect(await sub.db.query(`SELECT consumer, state, error FROM dead_letters`)).toEqual([]);
    expect(await snapshot()).toEqual(kept);
    expect((await compare()).compared).toBeGreaterThan(100);
    expect(await compareDays()).toBeGreaterThan(400);
  }, 120_000);

  it('member_days backfilled by the migration from the facts equal the days the consumer kept', async () => {
    const kept = await sub.db.query(`SELECT * FROM member_days ORDER BY program_id, day`);
    expect(kept.length).toBeGreaterThan(40);
    await sub.db.query(`DROP TABLE member_days`);
    const runner = sub.db.createQueryRunner();
    try {
      await new MemberDays1797001200000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await sub.db.query(`SELECT * FROM member_days ORDER BY program_id, day`)).toEqual(kept);
  });

  it('long buckets built by the migration from the facts equal what the consumer kept', async () => {
    const kept = await retainedRows();
    expect(kept.length).toBeGreaterThan(10);
    await sub.db.query(`DROP TABLE activity_retained, activity_retained_windows`);
    const runner = sub.db.createQueryRunner();
    try {
      await new ActivityRetained1797020000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await retainedRows()).toEqual(kept);
    const builtLong = (await sub.db.query(`SELECT window_days FROM activity_retained_windows WHERE program_id = $1 ORDER BY window_days`, [PROGRAM])) as { window_days: number }[];
    expect(builtLong.map((r) => r.window_days)).toEqual([7, 30, 90]);
  });
});
