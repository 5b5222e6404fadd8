import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, cuped, sampleRatioMismatch, seededRandom, studentTCdf, studentTQuantile, summarize, welch, type Unit } from './statistics';

describe('Student t and chi-square distributions', () => {
  it('give the tabulated quantiles (two-sided 95 %: t(0.975, df))', () => {
    // Printed t tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 5)).toBeCloseTo(2.5706, 4);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.96, 3);
    expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.2281, 4);
    expect(studentTQuantile(0.995, 20)).toBeCloseTo(2.845, 3);
  });

  it('has a CDF that matches known values and is symmetric', () => {
    // df = 1 is the Cauchy distribution: P(T ≤ 1) = 1/2 + atan(1)/π = 0.75.
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 10);
    // df = 2 has a closed form: 1/2 + t / (2√(2 + t²)).
    expect(studentTCdf(1.5, 2)).toBeCloseTo(0.5 + 1.5 / (2 * Math.sqrt(2 + 1.5 ** 2)), 10);
    expect(studentTCdf(-1.5, 2) + studentTCdf(1.5, 2)).toBeCloseTo(1, 12);
  });

  it('gives the chi-square tail at the tabulated critical values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 8);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 8);
    expect(chiSquareSurvival(10.827566170662733, 1)).toBeCloseTo(0.001, 8);
    // df = 2 is exponential: P(X ≥ x) = e^(−x/2).
    expect(chiSquareSurvival(7, 2)).toBeCloseTo(Math.exp(-3.5), 12);
  });
});

describe('welch', () => {
  it('computes se, Welch–Satterthwaite df and the 95 % interval as by hand', () => {
    // control 1..5: mean 3, s² 2.5; treatment 2,4,…,12: mean 7, s² 70/5 = 14.
    const control = summarize([1, 2, 3, 4, 5]);
    const treatment = summarize([2, 4, 6, 8, 10, 12]);
    expect(control).toEqual({ n: 5, mean: 3, variance: 2.5 });
    expect(treatment).toEqual({ n: 6, mean: 7, variance: 14 });
    const r = welch(control, treatment)!;
    // se² = 2.5/5 + 14/6 = 0.5 + 2.3333… = 2.8333…
    expect(r.standardError).toBeCloseTo(Math.sqrt(17 / 6), 12);
    // df = (17/6)² / (0.5²/4 + (7/3)²/5) = 8.027777… / 1.151388… = 6.97225…
    expect(r.degreesOfFreedom).toBeCloseTo(17 ** 2 / 36 / (0.25 / 4 + 49 / 45), 10);
    expect(r.degreesOfFreedom).toBeCloseTo(6.97226, 4);
    // t(0.975, 6.97) lies between the tabulated t(0.975, 7) = 2.3646 and t(0.975, 6) = 2.4469, close to df 7.
    const q = (r.high - r.difference) / r.standardError;
    expect(q).toBeGreaterThan(2.3646);
    expect(q).toBeLessThan(2.37);
    expect(r.difference).toBe(4);
    expect(r.low).toBeCloseTo(4 - q * Math.sqrt(17 / 6), 12);
    // t = 4 / 1.6833 = 2.3764 > q: just significant at 5 %.
    expect(r.significant).toBe(true);
    expect(r.pValue).toBeLessThan(0.05);
    expect(r.pValue).toBeGreaterThan(0.045);
  });

  it('with equal variances and sizes, has df = 2(n − 1) and the pooled t interval', () => {
    const r = welch(summarize([1, 2, 3, 4]), summarize([2, 3, 4, 5]))!;
    expect(r.degreesOfFreedom).toBeCloseTo(6, 12);
    // se = √(2 × (5/3)/4) = 0.91287; t(0.975, 6) = 2.446912
    expect(r.high - r.low).toBeCloseTo(2 * 2.446912 * Math.sqrt(5 / 6), 4);
    expect(r.significant).toBe(false);
  });

  it('is null when a group has fewer than two members, and exact when nobody varies', () => {
    expect(welch(summarize([1]), summarize([1, 2]))).toBeNull();
    expect(welch(summarize([2, 2]), summarize([3, 3]))).toMatchObject({ difference: 1, low: 1, high: 1, degreesOfFreedom: null, significant: true });
  });
});

describe('cuped', () => {
  it('removes the variance the pre-period explains, keeps the uplift, and narrows the interval', () => {
    const random = seededRandom(7);
    const make = (lift: number): Unit[] =>
      Array.from({ length: 400 }, () => {
        const x = 50 + 40 * random();
        return { x, y: x + lift + 5 * (random() - 0.5) };
      });
    const control = make(0);
    const treatment = make(2);
    const r = cuped(control, treatment)!;
    const plain = welch(summarize(control.map((u) => u.y)), summarize(treatment.map((u) => u.y)))!;
    expect(r.theta).toBeCloseTo(1, 1);
    // Var(y) ≈ 40²/12 + 5²/12 ≈ 135, residual ≈ 2: the difference's variance falls by ~98 %.
    expect(r.varianceReduction).toBeGreaterThan(0.95);
    expect(r.high - r.low).toBeLessThan((plain.high - plain.low) / 4);
    expect(r.difference).toBeGreaterThan(1.7);
    expect(r.difference).toBeLessThan(2.3);
    expect(r.significant).toBe(true);
  });

  it('does nothing when the covariate does not vary (theta 0)', () => {
    const units = (ys: number[]): Unit[] => ys.map((y) => ({ x: 3, y }));
    const r = cuped(units([1, 2, 3]), units([2, 3, 4, 5]))!;
    expect(r.theta).toBe(0);
    expect(r.varianceReduction).toBeCloseTo(0, 12);
    expect(r.difference).toBeCloseTo(welch(summarize([1, 2, 3]), summarize([2, 3, 4, 5]))!.difference, 12);
  });
});

describe('sampleRatioMismatch', () => {
  it('computes Pearson chi-square against the weights and flags p < 0.001', () => {
    // 50/50 planned, 520/480 seen: χ² = (20² + 20²)/500 = 1.6, p = 0.2059.
    const fine = sampleRatioMismatch([520, 480], [50, 50]);
    expect(fine.chiSquare).toBeCloseTo(1.6, 12);
    expect(fine.degreesOfFreedom).toBe(1);
    expect(fine.pValue).toBeCloseTo(0.20590321, 6);
    expect(fine.mismatch).toBe(false);
    // 600/400: χ² = 40, p ≈ 2.5e-10.
    expect(sampleRatioMismatch([600, 400], [1, 1])).toMatchObject({ chiSquare: 40, mismatch: true });
    // Weights 1:2:1 of 400 → expected 100, 200, 100.
    expect(sampleRatioMismatch([100, 200, 100], [1, 2, 1])).toMatchObject({ chiSquare: 0, degreesOfFreedom: 2, pValue: 1, mismatch: false });
  });
});

describe('A/A simulation', () => {
  // 1,000 seeded experiments with no true difference: a 95 % interval must exclude 0 in about 5 %
  // of them. [3.5 %, 6.5 %] is ±2.2 standard errors of a 5 % rate over 1,000 runs.
  const runs = 1000;
  const random = seededRandom(20261130);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Skewed, like spend: a lognormal habit (x, the pre-period) and this period around it.
  const member = (): Unit => {
    const habit = Math.exp(3 + 0.8 * normal());
    return { x: habit * Math.exp(0.3 * normal()), y: habit * Math.exp(0.3 * normal()) };
  };
  let welchHits = 0;
  let cupedHits = 0;
  let reduction = 0;
  for (let i = 0; i < runs; i++) {
    const control = Array.from({ length: 150 }, member);
    const treatment = Array.from({ length: 150 }, member);
    if (welch(summarize(control.map((u) => u.y)), summarize(treatment.map((u) => u.y)))!.significant) welchHits++;
    const c = cuped(control, treatment)!;
    if (c.significant) cupedHits++;
    reduction += c.varianceReduction / runs;
  }

  it('finds a significant difference in 3.5–6.5 % of A/A experiments with Welch', () => {
    expect(welchHits / runs).toBeGreaterThanOrEqual(0.035);
    expect(welchHits / runs).toBeLessThanOrEqual(0.065);
  });

  it('and in 3.5–6.5 % with CUPED, which still removes most of the variance', () => {
    expect(cupedHits / runs).toBeGreaterThanOrEqual(0.035);
    expect(cupedHits / runs).toBeLessThanOrEqual(0.065);
    expect(reduction).toBeGreaterThan(0.5);
  });
});
