import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph } from '@loyalty-graph/testing';
import { analyticsSubgraph } from '../src/server';
import type { Period } from '../src/domain/periods';
import { FilteredRollups1797041000000 } from '../src/migrations/1797041000000-filtered-rollups';
import type { KpiFilter } from '../src/services/kpi-filter';
import { Kpis, type KpiBucket } from '../src/services/kpis';
import { analyticsFeeds, startAnalytics } from './support';
import { FACT_TABLES } from '../src/services/facts';
import { seededRandom } from '../src/domain/statistics';

/**
 * The rollups per dimension (point_days_by, purchase_days_by, member_days_by) give what the scan
 * of the facts gives, for every tier, partner and channel and their combinations, bucket by
 * bucket, on a seeded random history: enrolments (some through a partner, some never seen), tier
 * changes of which half are delivered only after every purchase they precede, purchases in two
 * channels and currencies (some partner-funded, some pending), returns and postings (delivered in
 * any order with their purchase, so a return may come first), redemptions, expiries and bonuses,
 * qualified referrals. Then a redelivery, a rebuild, a rebuild by two replicas, and the migration's
 * backfill against what the consumer kept.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000f1';
/** A segment of every member: its filter makes Kpis read the facts (the scan the rollups must equal). */
const EVERYONE = '00000000-0000-4000-8000-0000000000f2';
const TIERS = ['00000000-0000-4000-8000-0000000001a1', '00000000-0000-4000-8000-0000000001a2', '00000000-0000-4000-8000-0000000001a3'];
const PARTNERS = ['00000000-0000-4000-8000-0000000002b1', '00000000-0000-4000-8000-0000000002b2'];
const CHANNELS = ['STORE', 'ONLINE'];
const SEED = 20261201;
const DAY_MS = 86_400_000;
const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * DAY_MS;

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let peers: Record<string, string>;
const clock = new ManualClock(new Date('2027-02-01T00:00:00Z'));
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

/** The seeded PRNG of the simulations (mulberry32), so a failure can be replayed from its seed. */
const random = seededRandom;
const next = random(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
/** A third of the instants fall on a midnight (a bucket's edge). */
const instant = () => {
  const at = YEAR_START + Math.floor(next() * YEAR_MS);
  return next() < 0.3 ? Math.floor(at / DAY_MS) * DAY_MS : at;
};
const iso = (at: number) => new Date(at).toISOString();
const memberIds: string[] = [];

type Pending = () => void;
/** The history as two delivery lists: everything shuffled, then the late tier changes. */
function history(): { first: Pending[]; late: Pending[] } {
  const events: Pending[] = [];
  const late: Pending[] = [];
  for (let i = 0; i < 50; i++) {
    const memberId = randomUUID();
    memberIds.push(memberId);
    const enrolledAt = instant();
    if (next() < 0.9) {
      const partnerId = next() < 0.4 ? pick(PARTNERS) : null;
      const referralId = next() < 0.4 ? randomUUID() : null;
      const payload = { programId: PROGRAM, memberId, channel: partnerId ? 'PARTNER' : 'SELF', referralId, enrolledAt: iso(enrolledAt), tierId: next() < 0.9 ? TIERS[0] : null, partnerId };
      events.push(() => feeds.members.add('MemberEnrolled', memberId, payload, new Date(enrolledAt)));
      // A tier given at the enrolment's very instant (it wins over the entry tier), delivered last: it moves the enrolment.
      if (next() < 0.3) {
        const change = { programId: PROGRAM, memberId, fromTierId: null, toTierId: pick(TIERS.slice(1)), direction: 'UP', reason: 'MANUAL', changedAt: iso(enrolledAt) };
        late.push(() => feeds.members.add('TierChanged', memberId, change, new Date(enrolledAt)));
      }
      if (referralId && next() < 0.7) {
        const qualifiedAt = enrolledAt + Math.floor(next() * 60 * DAY_MS);
        const qualified = { programId: PROGRAM, referralId, referrerId: randomUUID(), refereeId: memberId, referrerBonus: 0, refereeBonus: 0, qualifiedAt: iso(qualifiedAt) };
        events.push(() => feeds.members.add('ReferralQualified', memberId, qualified, new Date(qualifiedAt)));
      }
    }
    const changes = Math.floor(next() * 3);
    for (let c = 0; c < changes; c++) {
      const changedAt = instant();
      const payload = { programId: PROGRAM, memberId, fromTierId: null, toTierId: pick(TIERS), direction: 'UP', reason: 'QUALIFIED', changedAt: iso(changedAt) };
      (next() < 0.5 ? late : events).push(() => feeds.members.add('TierChanged', memberId, payload, new Date(changedAt)));
    }
    const purchases = Math.floor(next() * 10);
    for (let p = 0; p < purchases; p++) {
      const at = instant();
      const purchaseId = randomUUID();
      const pending = next() < 0.5;
      const partnerId = next() < 0.3 ? pick(PARTNERS) : null;
      const points = 5 + Math.floor(next() * 50);
      const basket = next() < 0.9 ? { amount: `${points}.50`, currency: pick(['EUR', 'USD']) } : {};
      const accrued = { programId: PROGRAM, memberId, purchaseId, points, statusPoints: points, pending, occurredAt: iso(at), partnerId, ...basket, channel: pick(CHANNELS), entryId: randomUUID() };
      events.push(() => feeds.ledger.add('PointsAccrued', memberId, accrued, new Date(at)));
      // Returns and postings up to 40 days later: often in another month, sometimes after a tier change.
      const later = at + Math.floor(next() * 40 * DAY_MS);
      if (pending && next() < 0.6) {
        const posted = { programId: PROGRAM, memberId, purchaseId, points, statusPoints: points, entryId: randomUUID() };
        events.push(() => feeds.ledger.add('PointsPosted', memberId, posted, new Date(later)));
      } else if (next() < 0.3) {
        const split = pending ? { fromPending: points, fromPosted: 0 } : { fromPending: 0, fromPosted: points };
        const returned = { programId: PROGRAM, memberId, purchaseId, points, statusPoints: points, ...split, writtenOff: 0, statusFromPending: split.fromPending, statusFromPosted: split.fromPosted, clawbackPolicy: 'WRITE_OFF', partnerId, entryId: randomUUID() };
        events.push(() => feeds.ledger.add('PointsReturned', memberId, returned, new Date(later)));
      }
    }
    if (next() < 0.3) events.push(() => feeds.ledger.add('PointsRedeemed', memberId, { programId: PROGRAM, memberId, holdId: randomUUID(), points: 20, status: 'CAPTURED', entryId: randomUUID() }, new Date(instant())));
    if (next() < 0.2) events.push(() => feeds.ledger.add('PointsExpired', memberId, { programId: PROGRAM, memberId, points: 7, entryId: randomUUID() }, new Date(instant())));
    if (next() < 0.2) {
      events.push(() => feeds.ledger.add('ReferralBonusCredited', memberId, { programId: PROGRAM, memberId, referralId: randomUUID(), role: 'REFEREE', points: 15, entryId: randomUUID() }, new Date(instant())));
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return { first: events, late };
}

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

/** Every filter: each tier, partner and channel, and combinations of two and three. */
const FILTERS: KpiFilter[] = [
  ...TIERS.map((tierId) => ({ tierId })),
  ...PARTNERS.map((partnerId) => ({ partnerId })),
  ...CHANNELS.map((channel) => ({ channel })),
  { tierId: TIERS[1], channel: 'ONLINE' },
  { tierId: TIERS[0], partnerId: PARTNERS[0] },
  { partnerId: PARTNERS[1], channel: 'STORE' },
  { tierId: TIERS[2], partnerId: PARTNERS[0], channel: 'STORE' },
];

/** Rollups and scan, bucket by bucket, for every filter, per DAY, WEEK and MONTH; returns the purchases counted (not a vacuous equality). */
async function compare(): Promise<number> {
  const kpis = new Kpis(sub.db);
  const figures = ({ activity: _, ...rest }: KpiBucket) => rest;
  const spans: [Period, string, string][] = [
    ['DAY', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['WEEK', '2025-12-29T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['MONTH', '2026-01-01T00:00:00Z', '2027-03-01T00:00:00Z'],
  ];
  let purchases = 0;
  for (const filter of FILTERS) {
    for (const [period, from, to] of spans) {
      const rolled = await kpis.buckets(PROGRAM, period, new Date(from), new Date(to), filter);
      const scanned = await kpis.buckets(PROGRAM, period, new Date(from), new Date(to), { ...filter, segmentId: EVERYONE });
      expect(rolled.map(figures), `${period} ${JSON.stringify(filter)}`).toEqual(scanned.map(figures));
      if (period === 'MONTH') purchases += rolled.reduce((sum, b) => sum + b.purchases, 0);
    }
  }
  return purchases;
}

const TABLES = {
  point_days_by: 'issued <> 0 OR redeemed <> 0 OR expired <> 0 OR purchases <> 0 OR accrued <> 0 OR pending_delta <> 0',
  purchase_days_by: 'purchases <> 0 OR spend <> 0',
  member_days_by: 'enrolled <> 0 OR referred <> 0 OR qualified <> 0',
};
/** The rollups' non-zero rows (a moved fact leaves a zero row behind) and the facts' kept dimensions. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {};
  for (const [table, nonZero] of Object.entries(TABLES)) {
    rows[table] = (await sub.db.query(`SELECT * FROM ${table} WHERE ${nonZero} ORDER BY 1, 2, 3, 4, 5, 6`)) as unknown[];
  }
  rows['point_facts'] = (await sub.db.query(`SELECT event_id, member_id, kpi_tier_id, kpi_partner_id, kpi_channel, kpi_at FROM point_facts ORDER BY 1, 2`)) as unknown[];
  rows['member_facts'] = (await sub.db.query(`SELECT event_id, kpi_tier_id, kpi_partner_id, kpi_at FROM member_facts ORDER BY 1`)) as unknown[];
  return rows;
}

const emptyAll = () =>
  sub.db.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);

let beforeLate: Record<string, unknown[]>;
let onTime: number;

beforeAll(async () => {
  ({ sub, peers } = await startAnalytics(feeds, stops, { clock }));
  const { first, late } = history();
  for (const memberId of memberIds) {
    await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, now())`, [PROGRAM, EVERYONE, memberId]);
  }
  for (const add of first) add();
  await drain();
  onTime = await compare();
  beforeLate = await snapshot();
  // Tier changes delivered after the purchases, returns and postings they precede.
  for (const add of late) add();
  await drain();
}, 240_000);

afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('rollups per dimension (tier, partner, channel)', () => {
  it('equal the scan of the facts for every filter, per DAY, WEEK and MONTH, after tier changes that arrive late', async () => {
    expect(onTime).toBeGreaterThan(50);
    const purchases = await compare();
    expect(purchases).toBeGreaterThan(50);
    // The late tier changes moved facts between tier rows (and enrolments, qualifications with them).
    const now = await snapshot();
    expect(now['point_days_by']).not.toEqual(beforeLate['point_days_by']);
    expect(now['member_days_by']).not.toEqual(beforeLate['member_days_by']);
    // Every tier, partner and channel has something to count; returns and postings exist.
    const kinds = (await sub.db.query(`SELECT kind, count(*)::int AS n FROM point_facts GROUP BY 1`)) as { kind: string; n: number }[];
    expect(Object.fromEntries(kinds.map((k) => [k.kind, k.n]))).toMatchObject({ RETURNED: expect.any(Number), POSTED: expect.any(Number), ACCRUED: expect.any(Number) });
    const tiers = (await sub.db.query(`SELECT DISTINCT kpi_tier_id FROM point_facts WHERE kind <> 'ACCRUED' AND kpi_tier_id IS NOT NULL`)) as unknown[];
    expect(tiers.length).toBe(3);
  }, 240_000);

  it('do not move when every event is delivered again', async () => {
    const kept = await snapshot();
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await snapshot()).toEqual(kept);
  }, 120_000);

  it('rebuilt into emptied tables equal what the consumer kept, and the scan', async () => {
    const kept = await snapshot();
    await emptyAll();
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await snapshot()).toEqual(kept);
    expect(await compare()).toBeGreaterThan(50);
  }, 240_000);

  it('rebuilt by two replicas at once, members and ledger consumers together, equal what one consumer kept', async () => {
    const kept = await snapshot();
    const replica = await startTestSubgraph(analyticsSubgraph as unknown as SubgraphModule<ViewerContext>, { internalSecret: sub.internalSecret, peers, database: sub.database, clock });
    try {
      await emptyAll();
      for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
      await Promise.all([...sub.consumers, ...replica.consumers].map((consumer) => consumer.drain()));
    } finally {
      await replica.stop();
    }
    expect(await sub.db.query(`SELECT consumer, state, error FROM dead_letters`)).toEqual([]);
    const rebuilt = await snapshot();
    for (const table of Object.keys(TABLES)) expect(rebuilt[table], table).toEqual(kept[table]);
    expect(await compare()).toBeGreaterThan(50);
  }, 240_000);

  it('backfilled by the migration from the facts equal what the consumer kept', async () => {
    const kept = await snapshot();
    const runner = sub.db.createQueryRunner();
    try {
      await new FilteredRollups1797041000000().down(runner);
      await new FilteredRollups1797041000000().up(runner);
    } finally {
      await runner.release();
    }
    expect(await snapshot()).toEqual(kept);
  }, 120_000);
});
