/**
 * Net Promoter Score and its 95 % confidence interval. Plain arithmetic, no I/O: the services
 * count answers in SQL and hand the counts here, so every figure has one definition.
 *
 * Each scored answer is a variable x: +1 for a promoter (9–10), 0 for a passive (7–8), −1 for a
 * detractor (0–6). NPS = 100 × mean(x) = %promoters − %detractors. Its variance (population form,
 * the usual one for NPS) is var = p_P + p_D − (p_P − p_D)², the standard error SE = sqrt(var / n),
 * and the interval NPS ± 1.96 × 100 × SE (normal approximation), clamped to [−100, 100]. The
 * approximation is poor on few answers, hence `smallSample` below MIN_RELIABLE_RESPONSES.
 */

/** Below this many scored answers the normal approximation is unreliable: the result says so. */
export const MIN_RELIABLE_RESPONSES = 30;
/** The two-sided 95 % quantile of the standard normal distribution. */
export const Z_95 = 1.959964;

export type NpsCategory = 'PROMOTER' | 'PASSIVE' | 'DETRACTOR';

/** 9–10 promoter, 7–8 passive, 0–6 detractor; anything else is not a score. */
export function npsCategory(score: number): NpsCategory {
  if (!isNpsScore(score)) throw new RangeError(`${score} is not a score from 0 to 10`);
  return score >= 9 ? 'PROMOTER' : score >= 7 ? 'PASSIVE' : 'DETRACTOR';
}

/** A whole number from 0 to 10. */
export function isNpsScore(score: unknown): score is number {
  return typeof score === 'number' && Number.isInteger(score) && score >= 0 && score <= 10;
}

export interface NpsCounts {
  promoters: number;
  passives: number;
  detractors: number;
}

export interface NpsSummary extends NpsCounts {
  /** Scored answers: promoters + passives + detractors. */
  scored: number;
  /** %promoters − %detractors, from −100 to 100; null without answers. */
  nps: number | null;
  /** 100 × sqrt(var / n); null without answers. */
  standardError: number | null;
  /** The 95 % interval's bounds, clamped to [−100, 100]; null without answers. */
  low: number | null;
  high: number | null;
  /** Fewer than MIN_RELIABLE_RESPONSES scored answers: the interval is only indicative. */
  smallSample: boolean;
}

/** Counts the scores into the three categories. */
export function countScores(scores: readonly number[]): NpsCounts {
  const counts = { promoters: 0, passives: 0, detractors: 0 };
  for (const score of scores) {
    const category = npsCategory(score);
    if (category === 'PROMOTER') counts.promoters++;
    else if (category === 'PASSIVE') counts.passives++;
    else counts.detractors++;
  }
  return counts;
}

/** NPS, its standard error and 95 % interval from the counts (unrounded; see roundTo for output). */
export function npsSummary(counts: NpsCounts): NpsSummary {
  const { promoters, passives, detractors } = counts;
  for (const n of [promoters, passives, detractors]) if (!Number.isInteger(n) || n < 0) throw new RangeError('counts must be whole numbers ≥ 0');
  const scored = promoters + passives + detractors;
  const smallSample = scored < MIN_RELIABLE_RESPONSES;
  if (scored === 0) return { ...counts, scored, nps: null, standardError: null, low: null, high: null, smallSample };
  const pP = promoters / scored;
  const pD = detractors / scored;
  const mean = pP - pD;
  // E[x²] − E[x]²: x² is 1 for promoters and detractors, 0 for passives. Max(0, …) guards rounding.
  const variance = Math.max(0, pP + pD - mean * mean);
  const se = Math.sqrt(variance / scored);
  const clamp = (v: number) => Math.min(100, Math.max(-100, v));
  return {
    ...counts,
    scored,
    nps: 100 * mean,
    standardError: 100 * se,
    low: clamp(100 * (mean - Z_95 * se)),
    high: clamp(100 * (mean + Z_95 * se)),
    smallSample,
  };
}

/** Rounds half away from zero to `digits` decimals (for display; the statistics use the exact values). */
export function roundTo(value: number, digits = 2): number {
  const factor = 10 ** digits;
  // toPrecision(12) first: 1.005 × 100 is 100.49999… in binary, and should round as the decimal 100.5 does.
  const rounded = (Math.sign(value) * Math.round(Number((Math.abs(value) * factor).toPrecision(12)))) / factor;
  return rounded === 0 ? 0 : rounded;
}

/** Respondents over audience (0 to 1); null when nobody was asked. */
export function responseRate(respondents: number, audience: number): number | null {
  return audience === 0 ? null : respondents / audience;
}
