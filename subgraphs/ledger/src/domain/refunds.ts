/**
 * Which of a captured hold's slices a refund gives back. A hold took its points from lots
 * (hold_lots: lot, points); a refund gives them back to the same lots, so refunded points keep the
 * expiry dates they had and a member cannot extend them by ordering and cancelling.
 */
export interface HoldSlice {
  lotId: string;
  /** What the hold took from the lot. */
  points: number;
  /** What earlier refunds already gave back of it. */
  refunded: number;
  expiresAt: Date | null;
}

export interface RefundedSlice {
  lotId: string;
  points: number;
  expiresAt: Date | null;
}

/** Slices in the order refunds use them: latest-expiring first (never-expiring before all), as a release does. */
export function byLatestExpiry<T extends { lotId: string; expiresAt: Date | null }>(slices: readonly T[]): T[] {
  const time = (slice: T) => slice.expiresAt?.getTime() ?? Infinity;
  return [...slices].sort((a, b) => time(b) - time(a) || (a.lotId < b.lotId ? -1 : a.lotId > b.lotId ? 1 : 0));
}

/**
 * Takes `points` from what the slices have not yet refunded, latest-expiring first: best for the
 * member (the points that come back last longest), and the same order as a release. Each slice
 * gives at most points − refunded, so partial refunds never give the same slice back twice.
 * Throws (a bug, never input) when the slices hold less than asked: the service checks the
 * hold's refunded_points first, and sum(slice.points) is the hold's points.
 */
export function refundSlices(slices: readonly HoldSlice[], points: number): RefundedSlice[] {
  let left = points;
  const taken: RefundedSlice[] = [];
  for (const slice of byLatestExpiry(slices)) {
    const take = Math.min(slice.points - slice.refunded, left);
    if (take > 0) taken.push({ lotId: slice.lotId, points: take, expiresAt: slice.expiresAt });
    left -= Math.max(0, take);
  }
  if (left !== 0) throw new Error(`a hold's slices cannot refund ${points} points (${left} short)`);
  return taken;
}

/**
 * How much of a credit of `credited` points becomes spendable lots, given the available balance
 * after it: after a clawback left the balance negative, a credit first repays that (lots add up
 * to max(0, available)). The same rule as lots.credit and a release.
 */
export function roomInLots(availableAfter: number, credited: number): number {
  return Math.max(0, availableAfter) - Math.max(0, availableAfter - credited);
}

/** The first `room` points of the slices, in their order: what goes back into lots. */
export function firstPoints<T extends { points: number }>(slices: readonly T[], room: number): T[] {
  let left = room;
  const out: T[] = [];
  for (const slice of slices) {
    const points = Math.min(slice.points, left);
    if (points > 0) out.push({ ...slice, points });
    left -= Math.max(0, points);
  }
  return out;
}
