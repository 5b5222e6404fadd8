import { currencyDigits } from '@loyalty-graph/shared';

/**
 * The formulas of the bucket KPIs beyond plain counts, on exact integers (no float drift on large
 * sums). SQL gathers the counts and sums; these turn them into the published figures, so each
 * rounding and each null case is decided (and tested) once.
 */

/** `numerator / denominator` rounded half up (away from zero) to `decimals`; null when the denominator is 0. */
export function divide(numerator: bigint, denominator: bigint, decimals: number): string | null {
  if (denominator === 0n) return null;
  const negative = numerator < 0n !== denominator < 0n && numerator !== 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const scale = 10n ** BigInt(decimals);
  const scaled = (n * scale * 2n + d) / (2n * d);
  const whole = scaled / scale;
  const text = decimals === 0 ? `${whole}` : `${whole}.${String(scaled % scale).padStart(decimals, '0')}`;
  return negative && scaled !== 0n ? `-${text}` : text;
}

/** Digits kept by the rates (retention, redemption, referral conversion): 0.6667 is 66.67%. */
export const RATE_DECIMALS = 4;

/** A share of a whole, e.g. retained / active at the start; null when the whole is 0. */
export function rate(part: bigint | number, whole: bigint | number): string | null {
  return divide(BigInt(part), BigInt(whole), RATE_DECIMALS);
}

/** Purchases per active member, 2 decimals; null when nobody was active. */
export function purchaseFrequency(purchases: number, active: number): string | null {
  return divide(BigInt(purchases), BigInt(active), 2);
}

/**
 * Gross spend of purchases / purchases, rounded half up to the currency's ISO 4217 decimals (EUR 2, JPY 0), in their currency. Only purchases that carry
 * their basket's total count (events before baskets carried money do not). Null without such
 * purchases, or when they are in several currencies (an average across currencies means nothing).
 */
export function averageBasket(byCurrency: readonly { currency: string; spend: string; purchases: number }[]): { amount: string; currency: string } | null {
  const priced = byCurrency.filter((c) => c.purchases > 0);
  if (priced.length !== 1) return null;
  const [only] = priced;
  const currency = only!.currency.trim();
  const amount = divide(decimalToScaled(only!.spend, 4), BigInt(only!.purchases) * 10_000n, currencyDigits(currency));
  return amount === null ? null : { amount, currency };
}

/** A decimal text (e.g. '12.5', '-3', '0.0001') as an integer of 10^-scale units, exactly; more digits than the scale is an error. */
export function decimalToScaled(text: string, scale: number): bigint {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`not a decimal: ${text}`);
  const [, sign, whole, fraction = ''] = match;
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > scale) throw new Error(`more than ${scale} decimals: ${text}`);
  const value = BigInt(whole!) * 10n ** BigInt(scale) + BigInt((trimmed || '0').padEnd(scale, '0'));
  return sign ? -value : value;
}

export type Comparison = 'AT_LEAST' | 'AT_MOST';

/** Whether a KPI value meets its target; a KPI with no value (null: nothing to measure) never does. */
export function meets(value: string | null, comparison: Comparison, target: string): boolean {
  if (value === null) return false;
  const v = decimalToScaled(value, 6);
  const t = decimalToScaled(target, 6);
  return comparison === 'AT_LEAST' ? v >= t : v <= t;
}

/**
 * The activity of one member over a bucket, as the SQL counts it: active at an instant T when they
 * made a purchase in [T − window, T) and were not CLOSED at or before T (CLOSED is final in members).
 * Churned: active at the bucket's start, not at its end; retained: active at both.
 */
export function activeAt(purchases: readonly Date[], closedAt: Date | null, at: Date, windowDays: number): boolean {
  if (closedAt && closedAt.getTime() <= at.getTime()) return false;
  const since = at.getTime() - windowDays * 86_400_000;
  return purchases.some((p) => p.getTime() >= since && p.getTime() < at.getTime());
}

export interface Activity {
  active: number;
  activeAtStart: number;
  retained: number;
  churned: number;
}

/** Folds members' purchases into a bucket's activity counts (the definition the SQL implements). */
export function activity(members: readonly { purchases: readonly Date[]; closedAt: Date | null }[], start: Date, end: Date, windowDays: number): Activity {
  const counts: Activity = { active: 0, activeAtStart: 0, retained: 0, churned: 0 };
  for (const member of members) {
    const before = activeAt(member.purchases, member.closedAt, start, windowDays);
    const after = activeAt(member.purchases, member.closedAt, end, windowDays);
    if (after) counts.active++;
    if (before) counts.activeAtStart++;
    if (before && after) counts.retained++;
    if (before && !after) counts.churned++;
  }
  return counts;
}
