/**
 * Activity from day rollups instead of a scan of purchases (see the README's Performance).
 *
 * A member is active at midnight D, for a window of W days, when they made a purchase on one of the
 * UTC days D − W … D − 1 and were not CLOSED at or before D: so a purchase on day p "covers" the
 * midnights p + 1 … p + W. Per window, the rollup keeps +1/−1 per day where a member's covered
 * span starts and ends, and active_W(D) is the running sum up to D. Days are numbered from
 * 1970-01-01 (UTC) so the arithmetic is on integers.
 */

export const DAY_MS = 86_400_000;

/** The day number of a UTC midnight (or the day containing an instant). */
export const dayNumber = (at: Date): number => Math.floor(at.getTime() / DAY_MS);

/**
 * The lengths, in days, a calendar bucket can have (DAY, WEEK, MONTH, QUARTER, YEAR). Retention
 * over a bucket of length L ≤ W needs active over W + L days, so those windows are kept too.
 */
export const BUCKET_LENGTHS: readonly number[] = [1, 7, 28, 29, 30, 31, 90, 91, 92, 365, 366];

/** The windows kept for an activity window W: W itself and W + L for every bucket length L ≤ W. */
export function windowsFor(activeWindowDays: number): number[] {
  return [activeWindowDays, ...BUCKET_LENGTHS.filter((l) => l <= activeWindowDays).map((l) => activeWindowDays + l)];
}

/**
 * The first midnight a member closed at `closedAt` is no longer active: the midnight at or after
 * the closing (active at D needs "not CLOSED at or before D").
 */
export function clipDay(closedAt: Date | null): number | null {
  if (!closedAt) return null;
  return Math.ceil(closedAt.getTime() / DAY_MS);
}

/**
 * The midnights a member is active at, as half-open [from, to) day spans, sorted and disjoint: the
 * union of [p + 1, p + W + 1) over their purchase days p, cut at the clip day.
 */
export function coverage(purchaseDays: readonly number[], windowDays: number, clip: number | null): [number, number][] {
  const days = [...new Set(purchaseDays)].sort((a, b) => a - b);
  const spans: [number, number][] = [];
  for (const p of days) {
    const last = spans[spans.length - 1];
    // p's span [p + 1, p + W + 1) touches the previous one when p + 1 <= its end.
    if (last && p + 1 <= last[1]) last[1] = p + windowDays + 1;
    else spans.push([p + 1, p + windowDays + 1]);
  }
  if (clip === null) return spans;
  return spans.flatMap(([from, to]) => (from >= clip ? [] : [[from, Math.min(to, clip)] as [number, number]]));
}

/** +1 at each span's start, −1 at its end. */
function edges(spans: readonly [number, number][], sign: number, into: Map<number, number>): void {
  for (const [from, to] of spans) {
    into.set(from, (into.get(from) ?? 0) + sign);
    into.set(to, (into.get(to) ?? 0) - sign);
  }
}

/**
 * What to add to the day rows when a member's coverage goes from `before` to `after` (a new
 * purchase, or a closing): the days whose delta changes, zeros left out. A purchase between the
 * member's previous and next purchase days p⁻ < p < p⁺ yields +1 at max(p + 1, p⁻ + W + 1) and −1
 * at min(p + W, p⁺) + 1 when that span is not empty.
 */
export function coverageDeltas(before: readonly [number, number][], after: readonly [number, number][]): Map<number, number> {
  const deltas = new Map<number, number>();
  edges(before, -1, deltas);
  edges(after, 1, deltas);
  for (const [day, delta] of deltas) if (delta === 0) deltas.delete(day);
  return deltas;
}

/**
 * Members active at both a bucket's start S and its end E (length L = E − S ≤ W): the members with
 * a purchase in [S − W, S) and one in [E − W, E). As E − W ≤ S, the union of those windows is
 * [E − (W + L), E), so retained = active_W(S) + active_W(E) − active_{W+L}(E), except for the
 * members CLOSED in (S, E] who were active at S: counted at the start but in neither of the
 * others, they are subtracted (`closedActiveAtStart`).
 */
export function retained(activeAtStart: number, activeAtEnd: number, activeOverBoth: number, closedActiveAtStart: number): number {
  return activeAtStart + activeAtEnd - activeOverBoth - closedActiveAtStart;
}
