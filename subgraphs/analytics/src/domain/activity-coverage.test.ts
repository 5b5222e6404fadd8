import { describe, expect, it } from 'vitest';
import { activity } from './kpi-formulas';
import { clipDay, coverage, coverageDeltas, dayNumber, retained, windowsFor } from './activity-coverage';
import { seededRandom } from './statistics';

const day = (iso: string) => dayNumber(new Date(`${iso}T00:00:00Z`));
const midnight = (n: number) => new Date(n * 86_400_000);

/** The seeded PRNG of the simulations (mulberry32), so a failure can be replayed from its seed. */
const random = seededRandom;

/** active_W(D) from spans: the running sum of their edges. */
const activeAt = (deltas: Map<number, number>, d: number) => [...deltas].filter(([at]) => at <= d).reduce((sum, [, delta]) => sum + delta, 0);

describe('activity coverage', () => {
  it('a purchase on day p covers the midnights p + 1 … p + W; close purchases merge', () => {
    expect(coverage([day('2026-01-10')], 3, null)).toEqual([[day('2026-01-11'), day('2026-01-14')]]);
    expect(coverage([10, 12, 20], 3, null)).toEqual([
      [11, 16],
      [21, 24],
    ]);
    // 13 + 1 = 14 is exactly the end of 10's span: contiguous, one span.
    expect(coverage([13, 10], 3, null)).toEqual([[11, 17]]);
  });

  it('a closing ends coverage at the first midnight at or after it', () => {
    expect(clipDay(new Date('2026-03-10T00:00:00Z'))).toBe(day('2026-03-10'));
    expect(clipDay(new Date('2026-03-10T09:00:00Z'))).toBe(day('2026-03-11'));
    expect(coverage([10, 20], 5, 18)).toEqual([[11, 16]]);
    expect(coverage([10, 20], 5, 13)).toEqual([[11, 13]]);
    expect(coverage([10], 5, 11)).toEqual([]);
  });

  it('inserting p between p⁻ and p⁺ adds exactly [max(p+1, p⁻+W+1), min(p+W, p⁺)]', () => {
    const w = 10;
    const deltas = coverageDeltas(coverage([100, 130], w, null), coverage([100, 115, 130], w, null));
    expect([...deltas].sort((a, b) => a[0] - b[0])).toEqual([
      [116, 1],
      [126, -1],
    ]);
    // Already covered on both sides: nothing changes.
    expect(coverageDeltas(coverage([100, 105], w, null), coverage([100, 103, 105], w, null)).size).toBe(0);
  });

  it('keeps W and W + every bucket length up to W', () => {
    expect(windowsFor(7)).toEqual([7, 8, 14]);
    expect(windowsFor(90)).toEqual([90, 91, 97, 118, 119, 120, 121, 180]);
  });

  it('running sums of deltas and the retained identity equal the definition on random histories', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const w = 1 + Math.floor(next() * 40);
      const members = Array.from({ length: 25 }, () => {
        const days = Array.from({ length: Math.floor(next() * 8) }, () => Math.floor(next() * 200));
        const closedAt = next() < 0.25 ? new Date(Math.floor(next() * 220 * 86_400_000)) : null;
        return { days, closedAt };
      });
      // Applied in random order (out-of-order deliveries), one purchase or closing at a time.
      const deltasFor = (window: number) => {
        const sum = new Map<number, number>();
        for (const m of members) {
          const order = [...m.days.map((d) => ({ d })), ...(m.closedAt ? [{ close: true }] : [])].sort(() => next() - 0.5);
          const seen: number[] = [];
          let closed: Date | null = null;
          for (const step of order) {
            const before = coverage(seen, window, clipDay(closed));
            if ('d' in step) seen.push(step.d!);
            else closed = m.closedAt;
            for (const [at, delta] of coverageDeltas(before, coverage(seen, window, clipDay(closed)))) sum.set(at, (sum.get(at) ?? 0) + delta);
          }
        }
        return sum;
      };
      const asDates = members.map((m) => ({ purchases: m.days.map((d) => new Date(d * 86_400_000 + 3_600_000)), closedAt: m.closedAt }));
      const start = 20 + Math.floor(next() * 150);
      const length = 1 + Math.floor(next() * w);
      const end = start + length;
      const expected = activity(asDates, midnight(start), midnight(end), w);
      const base = deltasFor(w);
      const wide = deltasFor(w + length);
      const closedActive = members.filter((m, i) => {
        if (!m.closedAt || m.closedAt <= midnight(start) || m.closedAt > midnight(end)) return false;
        return asDates[i]!.purchases.some((p) => p >= new Date((start - w) * 86_400_000) && p < midnight(start));
      }).length;
      expect({ seed, active: activeAt(base, end), activeAtStart: activeAt(base, start) }).toEqual({ seed, active: expected.active, activeAtStart: expected.activeAtStart });
      expect({ seed, retained: retained(activeAt(base, start), activeAt(base, end), activeAt(wide, end), closedActive) }).toEqual({ seed, retained: expected.retained });
    }
  });
});
