import { describe, expect, it } from 'vitest';
import { clipDay, coverage, coverageDeltas, dayNumber, DAY_MS } from './activity-coverage';
import { activity } from './kpi-formulas';
import { covered, isLongBucket, longBuckets, retainedDeltas } from './activity-long-buckets';
import { seededRandom } from './statistics';

const day = (iso: string) => dayNumber(new Date(`${iso}T00:00:00Z`));
const iso = ([s, e]: [number, number]) => `${new Date(s * DAY_MS).toISOString().slice(0, 10)}…${new Date(e * DAY_MS).toISOString().slice(0, 10)}`;

/** The seeded PRNG of the simulations (mulberry32), so a failure can be replayed from its seed. */
const random = seededRandom;

describe('long buckets', () => {
  it('are the calendar buckets longer than the window with a start or an end in the range', () => {
    // Q1 2026 has 90 days: it fits a 90-day window; Q4 2025 ends inside the range, Q4 2026 starts in it.
    expect(longBuckets(90, day('2026-01-01'), day('2027-01-01')).map(iso)).toEqual([
      '2025-01-01…2026-01-01',
      '2025-10-01…2026-01-01',
      '2026-01-01…2027-01-01',
      '2026-04-01…2026-07-01',
      '2026-07-01…2026-10-01',
      '2026-10-01…2027-01-01',
    ]);
    // Under 30 days only the 31-day months are long (February fits, March after it does not); the
    // range is half-open: Q2 starting on its end is not in it.
    expect(longBuckets(30, day('2026-02-01'), day('2026-04-01')).map(iso)).toEqual(['2026-01-01…2026-02-01', '2026-03-01…2026-04-01']);
    // Weeks (from Monday) only under a window shorter than 7 days.
    expect(longBuckets(6, day('2026-11-30'), day('2026-12-02')).map(iso)).toEqual(['2026-11-01…2026-12-01', '2026-11-23…2026-11-30', '2026-11-30…2026-12-07', '2026-12-01…2027-01-01']);
    expect(longBuckets(730, day('2020-01-01'), day('2030-01-01'))).toEqual([]);
    expect(longBuckets(7, 100, 100)).toEqual([]);
  });

  it('tells calendar buckets longer than the window from other spans', () => {
    expect(isLongBucket(90, day('2026-04-01'), day('2026-07-01'))).toBe(true);
    expect(isLongBucket(90, day('2026-01-01'), day('2026-04-01'))).toBe(false);
    expect(isLongBucket(90, day('2026-01-01'), day('2027-01-01'))).toBe(true);
    expect(isLongBucket(7, day('2026-02-01'), day('2026-03-01'))).toBe(true);
    expect(isLongBucket(6, day('2026-11-30'), day('2026-12-07'))).toBe(true);
    // Not a calendar bucket: a criterion's free range of 100 days, a week not starting on Monday.
    expect(isLongBucket(90, day('2026-01-01'), day('2026-04-11'))).toBe(false);
    expect(isLongBucket(6, day('2026-12-01'), day('2026-12-08'))).toBe(false);
  });

  it('retained deltas applied in any order equal the definition on random histories', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const w = 1 + Math.floor(next() * 100);
      const base = day('2026-01-01');
      const members = Array.from({ length: 25 }, () => {
        const days = Array.from({ length: Math.floor(next() * 8) }, () => base + Math.floor(next() * 400));
        const closedAt = next() < 0.25 ? new Date((base + Math.floor(next() * 420)) * DAY_MS + (next() < 0.3 ? 0 : Math.floor(next() * DAY_MS))) : null;
        return { days, closedAt };
      });
      const kept = new Map<string, number>();
      for (const m of members) {
        const steps = [...m.days.map((d) => ({ d })), ...(m.closedAt ? [{ close: true }] : [])].sort(() => next() - 0.5);
        const seen: number[] = [];
        let closed: Date | null = null;
        for (const step of steps) {
          const before = coverage(seen, w, clipDay(closed));
          if ('d' in step) seen.push(step.d!);
          else closed = m.closedAt;
          const after = coverage(seen, w, clipDay(closed));
          for (const [key, { delta }] of retainedDeltas(w, before, after, coverageDeltas(before, after).keys())) kept.set(key, (kept.get(key) ?? 0) + delta);
        }
      }
      const asDates = members.map((m) => ({ purchases: m.days.map((d) => new Date(d * DAY_MS + 3_600_000)), closedAt: m.closedAt }));
      const buckets = longBuckets(w, base - 400, base + 900);
      for (const [s, e] of buckets) {
        const expected = activity(asDates, new Date(s * DAY_MS), new Date(e * DAY_MS), w);
        expect({ seed, bucket: iso([s, e]), retained: kept.get(`${s}:${e}`) ?? 0 }).toEqual({ seed, bucket: iso([s, e]), retained: expected.retained });
      }
      // Nothing kept for a bucket outside the long ones.
      for (const key of kept.keys()) expect(buckets.some(([s, e]) => `${s}:${e}` === key)).toBe(true);
    }
  });

  it('covered is membership in the half-open spans', () => {
    expect(covered([[10, 15], [20, 21]], 10)).toBe(true);
    expect(covered([[10, 15], [20, 21]], 15)).toBe(false);
    expect(covered([[10, 15], [20, 21]], 20)).toBe(true);
  });
});
