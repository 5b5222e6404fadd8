/**
 * The statistics behind experiment readouts and the business case: Welch's unequal-variance t
 * interval (Welch–Satterthwaite degrees of freedom, Student t quantile), CUPED with a pooled theta,
 * and the chi-square sample-ratio-mismatch test. Pure numbers in, numbers out; no database, no
 * GraphQL. The special functions are the classic continued-fraction/series forms (Numerical
 * Recipes ch. 6), accurate to ~1e-10, far beyond what a readout needs.
 */

/** Sample size, mean and unbiased (n − 1) variance of one group. */
export interface Summary {
  n: number;
  mean: number;
  variance: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  // Two passes: subtracting the mean first keeps the variance exact for large, close values (money).
  const variance = n < 2 ? 0 : values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

/** The unbiased sample covariance of paired values. */
export function covariance(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2 || ys.length !== n) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (xs[i]! - mx) * (ys[i]! - my);
  return sum / (n - 1);
}

const LANCZOS = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5]; // eslint-disable-line no-loss-of-precision -- the published coefficients, as printed

/** ln Γ(x) for x > 0 (Lanczos). */
export function logGamma(x: number): number {
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of LANCZOS) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x); // eslint-disable-line no-loss-of-precision -- √(2π) as printed (Numerical Recipes)
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on one side of the mean; use the symmetry on the other.
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `df` (possibly fractional) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p (0 < p < 1), by bisection on the CDF: monotone, so always converges. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('p must be strictly between 0 and 1');
  if (p === 0.5) return 0;
  const target = p > 0.5 ? p : 1 - p;
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < target) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < target) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return p > 0.5 ? t : -t;
}

/** The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a). */
export function upperIncompleteGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // Series for P, then Q = 1 − P.
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let n = 0; n < 1000; n++) {
      del *= x / ++ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(lnFront);
  }
  // Continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(lnFront) * h;
}

/** P(X ≥ x) for a chi-square variable with k degrees of freedom. */
export function chiSquareSurvival(x: number, k: number): number {
  return upperIncompleteGamma(k / 2, x / 2);
}

/** A difference of means (treatment − control) with its two-sided interval. */
export interface Comparison {
  /** treatment mean − control mean. */
  difference: number;
  standardError: number;
  /** Welch–Satterthwaite; null when neither group varies (the interval is the point). */
  degreesOfFreedom: number | null;
  low: number;
  high: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  /** The interval excludes 0. */
  significant: boolean;
}

/**
 * Welch's t interval for treatment − control: se = √(s²ₜ/nₜ + s²꜀/n꜀), df = se⁴ / ((s²ₜ/nₜ)²/(nₜ−1) +
 * (s²꜀/n꜀)²/(n꜀−1)), interval = difference ± t(1 − α/2, df) × se. Null when a group has fewer than
 * two members (no variance to estimate).
 */
export function welch(control: Summary, treatment: Summary, level = 0.95): Comparison | null {
  if (control.n < 2 || treatment.n < 2) return null;
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const difference = treatment.mean - control.mean;
  const standardError = Math.sqrt(vc + vt);
  if (standardError === 0) {
    // Nobody varies: the difference is known exactly.
    return { difference, standardError, degreesOfFreedom: null, low: difference, high: difference, pValue: difference === 0 ? 1 : 0, significant: difference !== 0 };
  }
  const degreesOfFreedom = (vc + vt) ** 2 / (vc ** 2 / (control.n - 1) + vt ** 2 / (treatment.n - 1));
  const q = studentTQuantile(1 - (1 - level) / 2, degreesOfFreedom);
  const t = difference / standardError;
  const pValue = Math.min(1, 2 * studentTCdf(-Math.abs(t), degreesOfFreedom));
  const low = difference - q * standardError;
  const high = difference + q * standardError;
  return { difference, standardError, degreesOfFreedom, low, high, pValue, significant: low > 0 || high < 0 };
}

/** One member's metric in the experiment (y) and in the pre-period of equal length (x, the covariate). */
export interface Unit {
  y: number;
  x: number;
}

export interface CupedComparison extends Comparison {
  /** cov(x, y) / var(x) over both groups pooled (0 when x does not vary). */
  theta: number;
  /** 1 − se²(adjusted) / se²(unadjusted): the share of the difference's variance CUPED removed. */
  varianceReduction: number;
}

/**
 * CUPED (Deng et al. 2013): y' = y − θ (x − x̄) with θ = cov(x, y) / var(x) over control and treatment
 * pooled, and x̄ their pooled mean; then Welch on y'. The same θ and x̄ for both groups keep the
 * estimate unbiased (x is measured before assignment, so its mean is the same in both in expectation).
 */
export function cuped(control: readonly Unit[], treatment: readonly Unit[], level = 0.95): CupedComparison | null {
  const all = [...control, ...treatment];
  const xs = all.map((u) => u.x);
  const varX = summarize(xs).variance;
  const theta = varX === 0 ? 0 : covariance(xs, all.map((u) => u.y)) / varX;
  const meanX = summarize(xs).mean;
  const adjust = (units: readonly Unit[]) => summarize(units.map((u) => u.y - theta * (u.x - meanX)));
  const plain = welch(summarize(control.map((u) => u.y)), summarize(treatment.map((u) => u.y)), level);
  const adjusted = welch(adjust(control), adjust(treatment), level);
  if (!plain || !adjusted) return null;
  const varianceReduction = plain.standardError === 0 ? 0 : 1 - adjusted.standardError ** 2 / plain.standardError ** 2;
  return { ...adjusted, theta, varianceReduction };
}

export interface SampleRatioCheck {
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** p < 0.001: the split is very unlikely under the planned weights; the readout is suspect. */
  mismatch: boolean;
}

/** A sample ratio mismatch is flagged below this p-value (the usual, deliberately strict threshold). */
export const SRM_THRESHOLD = 0.001;

/**
 * Pearson's chi-square of the observed group sizes against the planned weights: Σ (o − e)² / e with
 * e = N × wᵢ / Σw, k − 1 degrees of freedom.
 */
export function sampleRatioMismatch(observed: readonly number[], weights: readonly number[]): SampleRatioCheck {
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const degreesOfFreedom = Math.max(1, observed.length - 1);
  if (total === 0) return { chiSquare: 0, degreesOfFreedom, pValue: 1, mismatch: false };
  const chiSquare = observed.reduce((sum, o, i) => {
    const e = (total * weights[i]!) / weightSum;
    return sum + (o - e) ** 2 / e;
  }, 0);
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, mismatch: pValue < SRM_THRESHOLD };
}

/** A small seeded PRNG (mulberry32): the simulations are reproducible from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
