/**
 * Retention of calendar buckets longer than their activity window (a QUARTER or a YEAR under 90
 * days, a MONTH under 7). Over a bucket [S, E) of L > W days the windows before S and before E do
 * not touch, so "active at S and at E" is not a difference of running sums (activity-coverage.ts):
 * it is kept per bucket instead, as the members covered at both midnights S and E. Coverage is
 * already cut at a closing, so no correction for CLOSED members is needed there.
 */
import { DAY_MS } from './activity-coverage';
import { bucketStart, nextBucket, type Period } from './periods';

/** The periods whose buckets can be longer than a window (a DAY never is: W ≥ 1). */
export const LONG_PERIODS: readonly Period[] = ['WEEK', 'MONTH', 'QUARTER', 'YEAR'];

const midnight = (day: number) => new Date(day * DAY_MS);
const dayOf = (at: Date) => Math.round(at.getTime() / DAY_MS);

/**
 * The calendar buckets [S, E) (day numbers) of every period that are longer than `windowDays` and
 * whose start or end lies in [from, to), sorted by start then end. The periods' lengths differ (7,
 * 28–31, 90–92, 365–366 days), so no two periods share a bucket.
 */
export function longBuckets(windowDays: number, from: number, to: number): [number, number][] {
  const buckets: [number, number][] = [];
  if (to <= from) return buckets;
  for (const period of LONG_PERIODS) {
    // The bucket holding day from − 1 is the first whose end can be ≥ from.
    for (let start = bucketStart(period, midnight(from - 1)); dayOf(start) < to; start = nextBucket(period, start)) {
      const s = dayOf(start);
      const e = dayOf(nextBucket(period, start));
      // Months differ in length: a February can fit a 30-day window while the March after it does not.
      if (e - s > windowDays && ((s >= from && s < to) || (e >= from && e < to))) buckets.push([s, e]);
    }
  }
  return buckets.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Whether [start, end) (day numbers) is a calendar bucket of some period and longer than `windowDays`. */
export function isLongBucket(windowDays: number, start: number, end: number): boolean {
  if (end - start <= windowDays) return false;
  return LONG_PERIODS.some((period) => bucketStart(period, midnight(start)).getTime() === midnight(start).getTime() && dayOf(nextBucket(period, midnight(start))) === end);
}

/** Whether `day` is in one of the sorted, disjoint half-open spans. */
export function covered(spans: readonly [number, number][], day: number): boolean {
  return spans.some(([from, to]) => from <= day && day < to);
}

/**
 * What to add to the long buckets' retained counts of one window when a member's coverage goes
 * from `before` to `after` (coverage() spans): +1 or −1 for each long bucket whose "covered at S
 * and at E" changed, keyed `S:E`; zeros left out. Coverage only changes between the first and the
 * last day its edges moved, so only buckets with S or E there are looked at.
 */
export function retainedDeltas(
  windowDays: number,
  before: readonly [number, number][],
  after: readonly [number, number][],
  changedDays: Iterable<number>,
): Map<string, { start: number; end: number; delta: number }> {
  const deltas = new Map<string, { start: number; end: number; delta: number }>();
  const days = [...changedDays];
  if (days.length === 0) return deltas;
  const from = Math.min(...days);
  const to = Math.max(...days);
  for (const [s, e] of longBuckets(windowDays, from, to)) {
    const delta = Number(covered(after, s) && covered(after, e)) - Number(covered(before, s) && covered(before, e));
    if (delta !== 0) deltas.set(`${s}:${e}`, { start: s, end: e, delta });
  }
  return deltas;
}
