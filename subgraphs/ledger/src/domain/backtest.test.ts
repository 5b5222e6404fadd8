import { describe, expect, it } from 'vitest';
import { BacktestReplay, checkBacktestRange, draftLadder, tierOnLadder, type LadderTier, type ReplayPurchase } from './backtest';
import { ANONYMOUS, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import type { EarningRules } from './earning';
import { canBacktest } from './policy';

const FROM = new Date('2026-03-01T00:00:00Z');
const base: EarningRules = { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', minimumSpend: null, multipliers: [], campaigns: [], caps: [], discountPercent: null };

function purchase(memberId: string, amounts: string[], extra: Partial<ReplayPurchase> = {}): ReplayPurchase {
  const lines = amounts.map((amount, i) => ({ lineId: `L${i + 1}`, sku: `SKU${i + 1}`, category: i === 0 ? 'food' : 'wine', quantity: 2, amount }));
  return {
    memberId,
    occurredAt: new Date('2026-03-02T10:00:00Z'),
    basket: { currency: 'EUR', channel: 'STORE', lines },
    quantities: Object.fromEntries(lines.map((l) => [l.lineId, l.quantity])),
    tierId: null,
    actualPoints: 0,
    actualStatusPoints: 0,
    returns: [],
    actualReturnedPoints: 0,
    actualReturnedStatusPoints: 0,
    ...extra,
  };
}

const LADDER: LadderTier[] = [
  { tierId: 'base', name: 'Base', rank: 1, threshold: 0 },
  { tierId: 'silver', name: 'Silver', rank: 2, threshold: 100 },
  { tierId: 'gold', name: 'Gold', rank: 3, threshold: 500 },
];

describe('BacktestReplay', () => {
  it('compares the draft with the actual points member by member', () => {
    const replay = new BacktestReplay({ ...base, basePoints: 2 }, FROM);
    replay.add(purchase('a', ['30.00', '20.50'], { actualPoints: 50, actualStatusPoints: 50 }));
    replay.add(purchase('b', ['10.00'], { actualPoints: 40, actualStatusPoints: 40 }));
    const s = replay.summary(LADDER, LADDER);
    expect(s).toMatchObject({ purchases: 2, members: 2, actualPoints: 90, draftPoints: 121, membersGaining: 1, membersLosing: 1, membersUnchanged: 0, refusedPurchases: 0 });
    // a: 2 × 30 + floor(2 × 20.50) = 101 against 50; b: 20 against 40.
    expect(s.largestGain).toEqual({ memberId: 'a', actualPoints: 50, draftPoints: 101, difference: 51 });
    expect(s.largestLoss).toEqual({ memberId: 'b', actualPoints: 40, draftPoints: 20, difference: -20 });
    // a climbs to silver on the draft's 101 status points.
    expect(s.tiers.find((t) => t.tierId === 'silver')).toMatchObject({ actualMembers: 0, draftMembers: 1 });
    expect(s.tiers.find((t) => t.tierId === 'base')).toMatchObject({ actualMembers: 2, draftMembers: 1 });
    expect(s.membersChangingTier).toBe(1);
  });

  it('applies tier multipliers with the tier the purchase earned at, and campaigns by date, category and channel', () => {
    const rules: EarningRules = {
      ...base,
      multipliers: [{ dimension: 'TIER', value: 'gold', factor: '1.5' }],
      campaigns: [{ name: 'Wine week', startsAt: '2026-03-01T00:00:00.000Z', endsAt: '2026-03-08T00:00:00.000Z', factor: '3', categories: ['wine'], channels: [] }],
    };
    const replay = new BacktestReplay(rules, FROM);
    replay.add(purchase('g', ['10.00', '10.00'], { tierId: 'gold' })); // 10 × 1.5 + 10 × 1.5 × 3 = 15 + 45
    replay.add(purchase('n', ['10.00', '10.00'], { occurredAt: new Date('2026-03-09T00:00:00Z') })); // campaign over: 10 + 10
    const s = replay.summary(LADDER, LADDER);
    expect(s.draftPoints).toBe(80);
    expect(s.largestGain).toMatchObject({ memberId: 'g', draftPoints: 60 });
  });

  it('counts caps per calendar period from the points earned before the range and within it', () => {
    const replay = new BacktestReplay({ ...base, caps: [{ period: 'MONTH', maxPoints: 100 }] }, FROM);
    replay.seed('m', { MONTH: 70 });
    replay.add(purchase('m', ['50.00'])); // 30 left in March
    replay.add(purchase('m', ['50.00'], { occurredAt: new Date('2026-03-20T00:00:00Z') })); // March is full
    replay.add(purchase('m', ['50.00'], { occurredAt: new Date('2026-04-01T00:00:00Z') })); // a new month
    expect(replay.summary(LADDER, LADDER).draftPoints).toBe(30 + 0 + 50);
  });

  it('counts a returned purchase for caps, and takes back the returned share of the draft points', () => {
    const replay = new BacktestReplay({ ...base, basePoints: 3, caps: [{ period: 'DAY', maxPoints: 1000 }] }, FROM);
    // Line L1: 2 items for 10.00 → 30 draft points; one item returned takes back 15. The actual
    // purchase gave 10 and its return took back 5.
    replay.add(purchase('r', ['10.00'], { actualPoints: 10, actualStatusPoints: 10, returns: [{ lines: [{ lineId: 'L1', quantity: 1 }] }], actualReturnedPoints: 5, actualReturnedStatusPoints: 5 }));
    const s = replay.summary(LADDER, LADDER);
    expect(s).toMatchObject({ actualPoints: 5, draftPoints: 15, actualStatusPoints: 5, draftStatusPoints: 15 });
  });

  it('gives nothing, and counts it, for a purchase the draft refuses (another currency)', () => {
    const replay = new BacktestReplay({ ...base, currency: 'USD' }, FROM);
    replay.add(purchase('x', ['10.00'], { actualPoints: 10, actualStatusPoints: 10 }));
    expect(replay.summary(LADDER, LADDER)).toMatchObject({ refusedPurchases: 1, draftPoints: 0, actualPoints: 10, membersLosing: 1 });
  });

  it('judges actual status points on the current ladder and the draft ones on the draft ladder', () => {
    const replay = new BacktestReplay(base, FROM);
    replay.add(purchase('s', ['150.00'], { actualPoints: 150, actualStatusPoints: 150 }));
    const s = replay.summary(LADDER, draftLadder(LADDER, [{ tierId: 'silver', threshold: 200 }]));
    expect(s.tiers.find((t) => t.tierId === 'silver')).toMatchObject({ actualThreshold: 100, draftThreshold: 200, actualMembers: 1, draftMembers: 0, actualMembersOnDraftLadder: 0 });
    expect(s.tiers.find((t) => t.tierId === 'base')).toMatchObject({ actualMembersOnDraftLadder: 1 });
    expect(s.tiers.find((t) => t.tierId === 'base')).toMatchObject({ actualMembers: 0, draftMembers: 1 });
  });
});

describe('tiers and ladders', () => {
  it('maps status points onto the highest tier reached, or none below the lowest threshold', () => {
    expect(tierOnLadder(LADDER, 0)).toBe('base');
    expect(tierOnLadder(LADDER, 499)).toBe('silver');
    expect(tierOnLadder(LADDER, 500)).toBe('gold');
    expect(tierOnLadder([{ tierId: 't', name: 'T', rank: 1, threshold: 10 }], 9)).toBeNull();
  });

  it('refuses a draft ladder with unknown or repeated tiers, bad thresholds or a falling ladder', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { field: string }).field;
      }
      return 'no error';
    };
    expect(field(() => draftLadder(LADDER, [{ tierId: 'nope', threshold: 1 }]))).toBe('tierThresholds.0.tierId');
    expect(field(() => draftLadder(LADDER, [{ tierId: 'gold', threshold: 900 }, { tierId: 'gold', threshold: 900 }]))).toBe('tierThresholds.1.tierId');
    expect(field(() => draftLadder(LADDER, [{ tierId: 'gold', threshold: -1 }]))).toBe('tierThresholds.0.threshold');
    expect(field(() => draftLadder(LADDER, [{ tierId: 'gold', threshold: 50 }]))).toBe('tierThresholds');
    expect(draftLadder(LADDER, null)).toBe(LADDER);
  });

  it('refuses empty, backwards and over-long ranges', () => {
    expect(() => checkBacktestRange(FROM, FROM)).toThrow(/after/);
    expect(() => checkBacktestRange(FROM, new Date(FROM.getTime() + 367 * 86_400_000))).toThrow(/366 days/);
    expect(() => checkBacktestRange(FROM, new Date(FROM.getTime() + 366 * 86_400_000))).not.toThrow();
  });
});

describe('canBacktest', () => {
  const staff = (roles: StaffRole[], programId: string | null = 'p1'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: 'staff-1' });
  it('lets the program’s admins and analysts, and platform operators, backtest its rules', () => {
    for (const viewer of [staff(['ADMIN']), staff(['ANALYST']), staff(['ADMIN'], null)]) expect(canBacktest(viewer, 'p1')).toBe(true);
  });
  it('refuses agents, another program’s staff, members and services', () => {
    const others: Viewer[] = [
      staff(['AGENT']),
      staff(['ADMIN', 'ANALYST'], 'p2'),
      { ...ANONYMOUS, kind: 'MEMBER', programId: 'p1', subject: 'm', memberId: 'm1' },
      { ...ANONYMOUS, kind: 'SERVICE', subject: 'analytics' },
    ];
    for (const viewer of others) expect(canBacktest(viewer, 'p1')).toBe(false);
  });
});
