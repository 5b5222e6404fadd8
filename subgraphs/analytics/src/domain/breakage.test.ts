import { describe, expect, it } from 'vitest';
import { estimateBreakage, type Movement, type MovementKind } from './breakage';

const m = (memberId: string, at: string, kind: MovementKind, points: number, purchaseId?: string): Movement => ({ memberId, at: new Date(at), kind, points, purchaseId: purchaseId ?? null });

describe('estimateBreakage (chain ladder over earn-month cohorts)', () => {
  it('develops younger cohorts with older cohorts’ factors: a hand-computed triangle', () => {
    // January (age 2 at March): 100 earned, cumulative redeemed 30, 50, 60.
    // February (age 1): 200 earned, cumulative 40, 100. March (age 0): 100 earned, 20.
    const movements = [
      m('a', '2026-01-05T00:00:00Z', 'EARN', 100),
      m('a', '2026-01-20T00:00:00Z', 'REDEEM', 30),
      m('a', '2026-02-10T00:00:00Z', 'REDEEM', 20),
      m('a', '2026-03-10T00:00:00Z', 'REDEEM', 10),
      m('b', '2026-02-01T00:00:00Z', 'EARN', 200),
      m('b', '2026-02-15T00:00:00Z', 'REDEEM', 40),
      m('b', '2026-03-15T00:00:00Z', 'REDEEM', 60),
      m('c', '2026-03-01T00:00:00Z', 'EARN', 100),
      m('c', '2026-03-02T00:00:00Z', 'REDEEM', 20),
      // After asOf: ignored.
      m('c', '2026-04-02T00:00:00Z', 'REDEEM', 80),
    ];
    const estimate = estimateBreakage(movements, new Date('2026-03-31T23:59:59Z'));
    // f(0) = (50 + 100) / (30 + 40); f(1) = 60 / 50.
    expect(estimate.developmentFactors).toEqual([150 / 70, 1.2]);
    expect(estimate.cohorts.map((c) => [c.month, c.age, c.earned, c.cumulativeRedeemed, c.outstanding])).toEqual([
      ['2026-01', 2, 100, [30, 50, 60], 40],
      ['2026-02', 1, 200, [40, 100], 100],
      ['2026-03', 0, 100, [20], 80],
    ]);
    expect(estimate.cohorts.map((c) => c.ultimateRedeemed)).toEqual([60, 100 * 1.2, 20 * (150 / 70) * 1.2]);
    const urr = (60 + 120 + 20 * (150 / 70) * 1.2) / 400;
    expect(estimate.ultimateRedemptionRate).toBeCloseTo(urr, 12);
    expect(estimate.breakageRate).toBeCloseTo(1 - urr, 12);
    expect(estimate.breakageRate).toBeCloseTo(0.4214286, 6);
  });

  it('spends the oldest points first, and counts expired points as never redeemed (the cohort cannot develop past what it holds)', () => {
    const movements = [
      m('a', '2026-01-05T00:00:00Z', 'EARN', 100),
      m('a', '2026-02-05T00:00:00Z', 'EARN', 100),
      // 150 spent in March: all of January (age 2), 50 of February (age 1).
      m('a', '2026-03-05T00:00:00Z', 'REDEEM', 150),
      // The rest of February expires in April: February is done at 50 of 100.
      m('a', '2026-04-05T00:00:00Z', 'EXPIRE', 50),
      // Another member's January cohort shows how redemption develops from age 1 to age 2.
      m('b', '2026-01-05T00:00:00Z', 'EARN', 100),
      m('b', '2026-02-05T00:00:00Z', 'REDEEM', 10),
      m('b', '2026-03-05T00:00:00Z', 'REDEEM', 40),
      // … and from age 2 to age 3, so f(2) = 170 / 150 would grow February past what it has left.
      m('b', '2026-04-05T00:00:00Z', 'REDEEM', 20),
    ];
    const estimate = estimateBreakage(movements, new Date('2026-04-30T00:00:00Z'));
    const [jan, feb] = estimate.cohorts;
    expect(jan).toMatchObject({ month: '2026-01', earned: 200, expired: 0, cumulativeRedeemed: [0, 10, 150, 170], outstanding: 30 });
    expect(feb).toMatchObject({ month: '2026-02', earned: 100, expired: 50, cumulativeRedeemed: [0, 50, 50], outstanding: 0 });
    expect(estimate.developmentFactors[2]).toBeCloseTo(170 / 150, 12);
    // 50 × 170/150 would be 56.67, but nothing of February is left to redeem: its ultimate is what it redeemed.
    expect(feb!.ultimateRedeemed).toBe(50);
    expect(jan!.ultimateRedeemed).toBe(170);
    expect(estimate.ultimateRedemptionRate).toBeCloseTo(220 / 300, 12);
  });

  it('takes refunds and reinstatements back from what they undid, and returns out of their purchase’s cohort', () => {
    const movements = [
      m('a', '2026-01-05T00:00:00Z', 'EARN', 100, 'p1'),
      m('a', '2026-01-06T00:00:00Z', 'EARN', 50, 'p2'),
      // The second purchase is returned: January earned 100, not 150.
      m('a', '2026-01-07T00:00:00Z', 'UNEARN', 50, 'p2'),
      m('a', '2026-01-10T00:00:00Z', 'REDEEM', 40),
      m('a', '2026-02-10T00:00:00Z', 'UNREDEEM', 15),
      m('a', '2026-03-10T00:00:00Z', 'EXPIRE', 75),
      m('a', '2026-03-11T00:00:00Z', 'UNEXPIRE', 75),
      // Received points belong to no cohort; spending them first (FIFO: they came later) is not January's.
      m('b', '2026-01-02T00:00:00Z', 'IN', 30),
      m('b', '2026-01-03T00:00:00Z', 'REDEEM', 30),
    ];
    const [jan, ...rest] = estimateBreakage(movements, new Date('2026-03-31T00:00:00Z')).cohorts;
    expect(rest).toEqual([]);
    expect(jan).toMatchObject({ earned: 100, redeemed: 25, expired: 0, outstanding: 75, cumulativeRedeemed: [40, 25, 25] });
  });

  it('has no estimate without points earned', () => {
    expect(estimateBreakage([], new Date('2026-01-01T00:00:00Z'))).toEqual({ cohorts: [], developmentFactors: [], ultimateRedemptionRate: null, breakageRate: null });
  });
});
