import { describe, expect, it } from 'vitest';
import { allocate, recognise, units } from './ifrs15';

/**
 * IFRS 15 Illustrative Example 52 (customer loyalty programme; also KPMG, Revenue – IFRS 15
 * handbook): sales CU100,000 earn 10,000 points worth CU1 each on redemption, 9,500 expected to
 * be redeemed. The example rounds to whole currency units: digits 0.
 */
describe('IFRS 15 Illustrative Example 52', () => {
  const allocation = allocate({ transactionPrice: units(100_000), points: 10_000n, pointValue: units(1), expectedRedeemed: 9_500n, digits: 0 });

  it('allocates by relative stand-alone selling price: points CU8,676, goods CU91,324 (points SSP CU9,500)', () => {
    expect(allocation).toEqual({ pointsSsp: units(9_500), toPoints: units(8_676), toGoods: units(91_324) });
  });

  it('year 1: 4,500 of 9,500 redeemed → CU4,110 revenue from points, CU4,566 contract liability', () => {
    expect(recognise({ toPoints: allocation.toPoints, redeemed: 4_500n, expectedRedeemed: 9_500n, digits: 0 })).toEqual({
      cumulativeRevenue: units(4_110),
      contractLiability: units(4_566),
    });
  });

  it('year 2: 8,500 redeemed, expectation revised to 9,700 → cumulative CU7,603, year-2 revenue CU3,493 (catch-up), liability CU1,073', () => {
    const year1 = recognise({ toPoints: allocation.toPoints, redeemed: 4_500n, expectedRedeemed: 9_500n, digits: 0 });
    const year2 = recognise({ toPoints: allocation.toPoints, redeemed: 8_500n, expectedRedeemed: 9_700n, digits: 0 });
    expect(year2).toEqual({ cumulativeRevenue: units(7_603), contractLiability: units(1_073) });
    expect(year2.cumulativeRevenue - year1.cumulativeRevenue).toBe(units(3_493));
  });
});

describe('allocate and recognise at the edges', () => {
  it('rounds at the currency’s decimals when asked (EUR: cents)', () => {
    const a = allocate({ transactionPrice: units(100_000), points: 10_000n, pointValue: units(1), expectedRedeemed: 9_500n, digits: 2 });
    // 100,000 × 9,500 / 109,500 = 8,675.7990…
    expect(a.toPoints).toBe(867_580n * 10n ** 6n);
    expect(a.toPoints + a.toGoods).toBe(units(100_000));
  });

  it('defers nothing without points or sales, and recognises everything once redemptions reach the expectation', () => {
    expect(allocate({ transactionPrice: units(50), points: 0n, pointValue: units(1), expectedRedeemed: 0n, digits: 2 })).toEqual({ pointsSsp: 0n, toPoints: 0n, toGoods: units(50) });
    expect(recognise({ toPoints: units(100), redeemed: 120n, expectedRedeemed: 100n, digits: 2 })).toEqual({ cumulativeRevenue: units(100), contractLiability: 0n });
    expect(recognise({ toPoints: units(100), redeemed: 0n, expectedRedeemed: 0n, digits: 2 })).toEqual({ cumulativeRevenue: units(100), contractLiability: 0n });
    expect(recognise({ toPoints: units(100), redeemed: 0n, expectedRedeemed: 50n, digits: 2 })).toEqual({ cumulativeRevenue: 0n, contractLiability: units(100) });
  });
});
