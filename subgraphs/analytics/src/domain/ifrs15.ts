import { roundHalfUp, roundScaled, SCALE } from './money';

/**
 * IFRS 15 for a loyalty program's points (IFRS 15.B39–B43, Illustrative Example 52): points give
 * the customer a material right, a separate performance obligation. The transaction price is
 * allocated between the goods and the points by relative stand-alone selling price (SSP), and the
 * points' share is revenue as points are redeemed, relative to the redemptions expected in total;
 * when the expectation changes, the cumulative revenue catches up at once (IFRS 15.B42 / IE52 year 2).
 *
 * Amounts are BigInt scaled by 10^8 (domain/money.ts). Each step rounds to `digits` decimals
 * and the next step uses the rounded figure, as the illustrative example (and a ledger) does.
 */

export interface Allocation {
  /** SSP of the points: points × value of a point × expected redemption rate. */
  pointsSsp: bigint;
  /** The transaction price's share allocated to the points (the initial contract liability). */
  toPoints: bigint;
  /** The rest: revenue for the goods at the sale. */
  toGoods: bigint;
}

/**
 * Splits `transactionPrice` (the goods' price, which is their SSP) and the points earned with it by
 * relative SSP: toPoints = price × pointsSsp / (price + pointsSsp), rounded; toGoods = price − toPoints.
 * `expectedRedemptionRate` is a ratio as num/den (e.g. 9,500 / 10,000) so it stays exact.
 */
export function allocate(input: { transactionPrice: bigint; points: bigint; pointValue: bigint; expectedRedeemed: bigint; digits: number }): Allocation {
  const { transactionPrice, points, pointValue, expectedRedeemed, digits } = input;
  if (points <= 0n || transactionPrice <= 0n) return { pointsSsp: 0n, toPoints: 0n, toGoods: transactionPrice };
  // SSP of the points = expected redeemed points × value of one point (= points × value × rate).
  const pointsSsp = roundScaled(expectedRedeemed * pointValue, digits);
  const toPoints = roundScaled(roundHalfUp(transactionPrice * pointsSsp, transactionPrice + pointsSsp), digits);
  return { pointsSsp, toPoints, toGoods: transactionPrice - toPoints };
}

export interface Recognition {
  /** Revenue from the points recognised to date: toPoints × min(1, redeemed / expected in total). */
  cumulativeRevenue: bigint;
  /** What is left as a contract liability: toPoints − cumulativeRevenue. */
  contractLiability: bigint;
}

/**
 * The points' revenue to date: allocated × redeemed to date / redemptions now expected in total,
 * capped at the allocation. Computed afresh from cumulative figures each time, so a revised
 * expectation is a cumulative catch-up (IFRS 15.B42). Nothing expected: all revenue (nothing to defer).
 */
export function recognise(input: { toPoints: bigint; redeemed: bigint; expectedRedeemed: bigint; digits: number }): Recognition {
  const { toPoints, redeemed, expectedRedeemed, digits } = input;
  const cumulativeRevenue =
    expectedRedeemed <= 0n || redeemed >= expectedRedeemed ? toPoints : roundScaled(roundHalfUp(toPoints * (redeemed < 0n ? 0n : redeemed), expectedRedeemed), digits);
  return { cumulativeRevenue, contractLiability: toPoints - cumulativeRevenue };
}

/** Whole units (CU 8,676) to scaled amounts and back, for readers and tests. */
export const units = (n: number | bigint): bigint => BigInt(n) * SCALE;
