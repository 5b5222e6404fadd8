import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@loyalty-graph/shared';
import { type startTestSubgraph } from '@loyalty-graph/testing';
import { settingsAt, type SettingsVersion } from '../src/domain/kpi-definitions';
import { bucketsBetween, type Period } from '../src/domain/periods';
import { Kpis } from '../src/services/kpis';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * The activity rollups (activity_days) give exactly what the scan of purchases gives, on a random
 * history (seeded: a failure replays): purchases delivered out of order, returns, members CLOSED
 * (some before purchases arrive), three settings versions (90, 30 and 7 days) of which two are
 * added after half the history was consumed (their windows are then built from the facts), a
 * redelivery of everything, and a rebuild into emptied tables.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000c1';
const SEED = 20261130;
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const clock = new ManualClock(new Date('2027-02-01T00:00:00Z'));
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

/** mulberry32: small, deterministic. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(SEED);
const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * 86_400_000;
const instant = () => new Date(YEAR_START + Math.floor(next() * YEAR_MS));

type Pending = () => void;
/** The history as deliveries, shuffled (a purchase may arrive before an earlier one, or after the closing). */
function history(): Pending[] {
  const events: Pending[] = [];
  for (let i = 0; i < 60; i++) {
    const memberId = randomUUID();
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
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
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

/** Rollups and scan, bucket by bucket, for every period over the year (DAY over two months). */
async function compare(): Promise<number> {
  const kpis = new Kpis(sub.db);
  const inForce = await versions();
  let compared = 0;
  const spans: [Period, string, string][] = [
    ['DAY', '2026-06-15T00:00:00Z', '2026-08-15T00:00:00Z'],
    ['WEEK', '2026-01-05T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['MONTH', '2026-01-01T00:00:00Z', '2027-02-01T00:00:00Z'],
    ['QUARTER', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
  ];
  for (const [period, from, to] of spans) {
    const planned = bucketsBetween(period, new Date(from), new Date(to));
    if (!planned.ok) throw new Error(planned.message);
    for (const bucket of planned.buckets) {
      const windows = [settingsAt(inForce, bucket.start).activeWindowDays];
      const rolled = await kpis.rolledUpActivity(PROGRAM, [bucket], windows);
      const length = (bucket.end.getTime() - bucket.start.getTime()) / 86_400_000;
      if (length > windows[0]!) {
        // A bucket longer than its window is left to the scan.
        expect(rolled).toBeNull();
        continue;
      }
      const scanned = await kpis.scannedActivity(PROGRAM, [bucket], windows);
      const empty = { active: 0, activeAtStart: 0, retained: 0, churned: 0 };
      expect({ period, start: bucket.start, ...(rolled?.get(bucket.start.getTime()) ?? { missing: true }) }).toEqual({ period, start: bucket.start, ...(scanned.get(bucket.start.getTime()) ?? empty) });
      compared++;
    }
  }
  return compared;
}

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops, { clock })).sub;
  const events = history();
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
    const compared = await compare();
    expect(compared).toBeGreaterThan(100);
    // Not a vacuous equality: the history makes members active, churn and close.
    const scanned = await new Kpis(sub.db).scannedActivity(PROGRAM, [{ start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-07-01T00:00:00Z') }], [90]);
    const june = scanned.get(Date.parse('2026-06-01T00:00:00Z'))!;
    expect(june.active).toBeGreaterThan(5);
    expect(june.churned).toBeGreaterThan(0);
  }, 120_000);

  it('serve Program.kpis buckets: rollups where a bucket fits its window, the scan for the others (Q1 of 90 days, then 91 and 92)', async () => {
    const kpis = new Kpis(sub.db);
    for (const period of ['MONTH', 'QUARTER'] as const) {
      const buckets = await kpis.buckets(PROGRAM, period, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
      const scanned = await kpis.scannedActivity(PROGRAM, buckets, buckets.map(() => 90));
      for (const bucket of buckets) {
        expect({ period, start: bucket.start, ...(await bucket.activity()) }).toEqual({ period, start: bucket.start, ...scanned.get(bucket.start.getTime())! });
      }
    }
  });

  it('do not move when every event is delivered again', async () => {
    const before = await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM]);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM])).toEqual(before);
  }, 120_000);

  it('rebuilt into emptied tables, one event at a time, equal the build from the facts and the scan', async () => {
    const built = await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM]);
    await sub.db.query(`TRUNCATE point_facts, member_facts, member_state, point_days, purchase_days, activity_days, activity_windows`);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    // Rebuilt from an empty program, every window was built once and then moved event by event.
    expect(await sub.db.query(`SELECT window_days, day, delta FROM activity_days WHERE program_id = $1 AND delta <> 0 ORDER BY 1, 2`, [PROGRAM])).toEqual(built);
    expect(await compare()).toBeGreaterThan(100);
  }, 120_000);
});
