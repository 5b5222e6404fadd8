import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byLatestExpiry, firstPoints, refundSlices, roomInLots, type HoldSlice } from './refunds';

const day = (n: number) => new Date(Date.UTC(2026, 0, n));
const slice = (lotId: string, points: number, expiresAt: Date | null, refunded = 0): HoldSlice => ({ lotId, points, refunded, expiresAt });

describe('refundSlices', () => {
  const slices = [slice('soon', 40, day(10)), slice('never', 25, null), slice('later', 35, day(20))];

  it('gives back the latest-expiring slices first, never-expiring before all, as a release does', () => {
    expect(refundSlices(slices, 50)).toEqual([
      { lotId: 'never', points: 25, expiresAt: null },
      { lotId: 'later', points: 25, expiresAt: day(20) },
    ]);
  });

  it('skips what earlier refunds gave back, so two partial refunds never give one slice back twice', () => {
    const first = refundSlices(slices, 30);
    const after = slices.map((s) => ({ ...s, refunded: first.find((f) => f.lotId === s.lotId)?.points ?? 0 }));
    const second = refundSlices(after, 70);
    expect(second).toEqual([
      { lotId: 'later', points: 30, expiresAt: day(20) },
      { lotId: 'soon', points: 40, expiresAt: day(10) },
    ]);
    for (const s of slices) {
      const total = [...first, ...second].filter((r) => r.lotId === s.lotId).reduce((sum, r) => sum + r.points, 0);
      expect(total, s.lotId).toBe(s.points);
    }
  });

  it('throws (a bug, never input) when asked for more than the slices have left', () => {
    expect(() => refundSlices([slice('a', 10, null, 4)], 7)).toThrow(/1 short/);
  });

  it('for any sequence of partial refunds: each slice gives back at most what it took, and every asked point comes from one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.option(fc.integer({ min: 1, max: 28 }))), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 10 }),
        (lots, asks) => {
          let state = lots.map(([points, d], i) => slice(`lot-${i}`, points, d === null ? null : day(d)));
          for (const ask of asks) {
            const left = state.reduce((sum, s) => sum + s.points - s.refunded, 0);
            if (ask > left) continue;
            const taken = refundSlices(state, ask);
            expect(taken.reduce((sum, t) => sum + t.points, 0)).toBe(ask);
            state = state.map((s) => ({ ...s, refunded: s.refunded + (taken.find((t) => t.lotId === s.lotId)?.points ?? 0) }));
            for (const s of state) expect(s.refunded).toBeLessThanOrEqual(s.points);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('roomInLots', () => {
  it('puts the whole credit in lots while the balance was not negative', () => {
    expect(roomInLots(100, 30)).toBe(30);
    expect(roomInLots(30, 30)).toBe(30);
  });

  it('repays a negative balance first: only what lifts it above zero becomes lots', () => {
    expect(roomInLots(10, 30)).toBe(10); // was −20
    expect(roomInLots(-5, 30)).toBe(0); // was −35, still negative
  });
});

describe('firstPoints', () => {
  it('keeps the first `room` points in order, cutting the slice that crosses it', () => {
    const slices = [{ lotId: 'a', points: 10 }, { lotId: 'b', points: 10 }, { lotId: 'c', points: 10 }];
    expect(firstPoints(slices, 15)).toEqual([{ lotId: 'a', points: 10 }, { lotId: 'b', points: 5 }]);
    expect(firstPoints(slices, 0)).toEqual([]);
  });
});

describe('byLatestExpiry', () => {
  it('orders never-expiring first, then by date descending, ties by lot id', () => {
    const ordered = byLatestExpiry([slice('b', 1, day(5)), slice('a', 1, day(5)), slice('n', 1, null), slice('z', 1, day(9))]);
    expect(ordered.map((s) => s.lotId)).toEqual(['n', 'z', 'a', 'b']);
  });
});
