import { describe, expect, it } from 'vitest';
import { countScores, isNpsScore, MIN_RELIABLE_RESPONSES, npsCategory, npsSummary, responseRate, roundTo } from './nps';
import { seededRandom } from './statistics';

describe('npsCategory', () => {
  it('makes 9–10 promoters, 7–8 passives and 0–6 detractors, and refuses anything else', () => {
    expect([0, 6, 7, 8, 9, 10].map(npsCategory)).toEqual(['DETRACTOR', 'DETRACTOR', 'PASSIVE', 'PASSIVE', 'PROMOTER', 'PROMOTER']);
    for (const bad of [-1, 11, 7.5, Number.NaN]) expect(() => npsCategory(bad)).toThrow(RangeError);
    expect([isNpsScore(0), isNpsScore(10), isNpsScore(11), isNpsScore('9')]).toEqual([true, true, false, false]);
  });
});

describe('npsSummary', () => {
  it('gives %promoters − %detractors and the normal 95 % interval on known counts', () => {
    // 5 promoters, 3 passives, 2 detractors: mean 0.3, var = 0.5 + 0.2 − 0.09 = 0.61, SE = sqrt(0.061).
    const s = npsSummary(countScores([10, 9, 9, 10, 9, 7, 8, 8, 0, 6]));
    expect(s).toMatchObject({ promoters: 5, passives: 3, detractors: 2, scored: 10, smallSample: true });
    expect(s.nps).toBeCloseTo(30, 10);
    expect(s.standardError).toBeCloseTo(24.698178, 5);
    expect(s.low).toBeCloseTo(30 - 1.959964 * 24.698178, 4); // −18.4075
    expect(s.high).toBeCloseTo(30 + 1.959964 * 24.698178, 4); // 78.4075
    expect(roundTo(s.low!)).toBe(-18.41);
    expect(roundTo(s.high!)).toBe(78.41);
  });

  it('narrows with more answers of the same mix and stops flagging a small sample at 30', () => {
    const small = npsSummary({ promoters: 15, passives: 9, detractors: 5 }); // 29 answers
    const enough = npsSummary({ promoters: 15, passives: 10, detractors: 5 }); // 30
    expect([small.smallSample, enough.smallSample]).toEqual([true, false]);
    expect(MIN_RELIABLE_RESPONSES).toBe(30);
    // 300 answers, 50 % / 33.3 % / 16.7 %: NPS 33.33, var = 2/3 − 1/9 = 5/9, SE = sqrt(5/9/300) × 100.
    const big = npsSummary({ promoters: 150, passives: 100, detractors: 50 });
    expect(big.nps).toBeCloseTo(100 / 3, 10);
    expect(big.standardError).toBeCloseTo(100 * Math.sqrt(5 / 9 / 300), 10);
    expect(big.high! - big.low!).toBeLessThan(enough.high! - enough.low!);
  });

  it('has no score and no interval without answers, and clamps a one-sided sample to [−100, 100]', () => {
    expect(npsSummary({ promoters: 0, passives: 0, detractors: 0 })).toEqual({ promoters: 0, passives: 0, detractors: 0, scored: 0, nps: null, standardError: null, low: null, high: null, smallSample: true });
    const allPromoters = npsSummary({ promoters: 40, passives: 0, detractors: 0 });
    expect([allPromoters.nps, allPromoters.standardError, allPromoters.low, allPromoters.high]).toEqual([100, 0, 100, 100]);
    const mostlyDetractors = npsSummary({ promoters: 1, passives: 0, detractors: 3 });
    expect(mostlyDetractors.low).toBe(-100);
    expect(() => npsSummary({ promoters: -1, passives: 0, detractors: 0 })).toThrow(RangeError);
  });

  it('covers the true NPS in about 95 % of 1,000 seeded samples (between 93 % and 97 %)', () => {
    const random = mulberry32(20261130);
    // A population with 45 % promoters, 30 % passives, 25 % detractors: true NPS = 20.
    const truth = 20;
    const n = 400;
    let covered = 0;
    for (let sample = 0; sample < 1000; sample++) {
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        const u = random();
        scores.push(u < 0.45 ? 9 + Math.floor(random() * 2) : u < 0.75 ? 7 + Math.floor(random() * 2) : Math.floor(random() * 7));
      }
      const s = npsSummary(countScores(scores));
      if (s.low! <= truth && truth <= s.high!) covered++;
    }
    expect(covered / 1000).toBeGreaterThanOrEqual(0.93);
    expect(covered / 1000).toBeLessThanOrEqual(0.97);
  });
});

describe('roundTo and responseRate', () => {
  it('round half away from zero, and a rate needs an audience', () => {
    expect([roundTo(1.005), roundTo(-1.005), roundTo(33.3333), roundTo(-0.001)]).toEqual([1.01, -1.01, 33.33, 0]);
    expect([responseRate(3, 4), responseRate(0, 0)]).toEqual([0.75, null]);
  });
});

/** The seeded PRNG of the simulations (mulberry32), so a failure can be replayed from its seed. */
const mulberry32 = seededRandom;
