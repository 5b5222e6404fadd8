import { assertCurrencyScale, InputError } from '@loyalty-graph/shared';
import { checkListLength, LIMITS } from './limits';
import { checkRuleDate } from './purchase-date';
import { parseDecimal, SCALE, type Rounding } from './decimal';
import type { CapPeriod, EarningRules, MultiplierDimension } from './earning';

export interface RulesInput {
  currency: string;
  basePoints: number;
  perAmount: string;
  rounding: Rounding;
  minimumSpend?: string | null;
  multipliers?: { dimension: MultiplierDimension; value: string; factor: string }[] | null;
  campaigns?: { name: string; startsAt: Date; endsAt: Date; factor: string; categories?: string[] | null; channels?: string[] | null }[] | null;
  caps?: { period: CapPeriod; maxPoints: number }[] | null;
  discountPercent?: string | null;
}

const MAX_FACTOR = 100n * SCALE;

const MAX_AMOUNT = BigInt(LIMITS.lineAmount) * SCALE;

/**
 * Validates a rule set before it is published; published versions are never edited. With `now`,
 * campaign dates are held within ten years of it (the publishing service always passes it).
 */
export function validateRules(input: RulesInput, now?: Date): EarningRules {
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', 'currency');
  if (!Number.isInteger(input.basePoints) || input.basePoints < 0 || input.basePoints > LIMITS.basePoints) throw new InputError(`basePoints must be 0 to ${LIMITS.basePoints}`, 'basePoints');
  // At least one cent: smaller units turn ordinary baskets into absurd point counts.
  const perAmount = parseDecimal(input.perAmount, 'perAmount');
  if (perAmount < SCALE / 100n || perAmount > MAX_AMOUNT) throw new InputError(`perAmount must be 0.01 to ${LIMITS.lineAmount}`, 'perAmount');
  if (input.minimumSpend != null) {
    const minimumSpend = parseDecimal(input.minimumSpend, 'minimumSpend');
    if (minimumSpend < 0n || minimumSpend > MAX_AMOUNT) throw new InputError(`minimumSpend must be 0 to ${LIMITS.lineAmount}`, 'minimumSpend');
    assertCurrencyScale(input.minimumSpend, input.currency, 'minimumSpend');
  }
  checkListLength(input.multipliers, 'multipliers', LIMITS.multipliers);
  checkListLength(input.campaigns, 'campaigns', LIMITS.campaigns);
  if (input.discountPercent != null) {
    const percent = parseDecimal(input.discountPercent, 'discountPercent');
    if (percent <= 0n || percent > 100n * SCALE) throw new InputError('discountPercent must be above 0 and at most 100', 'discountPercent');
  }
  const multipliers = (input.multipliers ?? []).map((m, i) => {
    checkFactor(m.factor, `multipliers.${i}.factor`);
    if (!m.value || m.value.length > LIMITS.codeLength) throw new InputError(`value must be 1 to ${LIMITS.codeLength} characters`, `multipliers.${i}.value`);
    return { dimension: m.dimension, value: m.value, factor: m.factor };
  });
  const keys = multipliers.map((m) => `${m.dimension}:${m.value}`);
  const duplicate = keys.findIndex((key, i) => keys.indexOf(key) !== i);
  if (duplicate >= 0) throw new InputError(`${keys[duplicate]} has two multipliers`, `multipliers.${duplicate}`);
  const campaigns = (input.campaigns ?? []).map((c, i) => {
    checkFactor(c.factor, `campaigns.${i}.factor`);
    if (!c.name.trim() || c.name.length > LIMITS.campaignNameLength) throw new InputError(`name must be 1 to ${LIMITS.campaignNameLength} characters`, `campaigns.${i}.name`);
    if (c.endsAt <= c.startsAt) throw new InputError('a campaign must end after it starts', `campaigns.${i}.endsAt`);
    if (now) {
      checkRuleDate(c.startsAt, now, `campaigns.${i}.startsAt`);
      checkRuleDate(c.endsAt, now, `campaigns.${i}.endsAt`);
    }
    for (const key of ['categories', 'channels'] as const) {
      checkListLength(c[key], `campaigns.${i}.${key}`, LIMITS.campaignFilters);
      c[key]?.forEach((value, j) => {
        if (!value || value.length > LIMITS.codeLength) throw new InputError(`${key} entries are 1 to ${LIMITS.codeLength} characters`, `campaigns.${i}.${key}.${j}`);
      });
    }
    return { name: c.name.trim(), startsAt: c.startsAt.toISOString(), endsAt: c.endsAt.toISOString(), factor: c.factor, categories: c.categories ?? [], channels: c.channels ?? [] };
  });
  checkListLength(input.caps, 'caps', 3);
  const caps = (input.caps ?? []).map((cap, i) => {
    if (!Number.isInteger(cap.maxPoints) || cap.maxPoints < 0 || cap.maxPoints > LIMITS.purchasePoints) {
      throw new InputError(`maxPoints must be a whole number from 0 to ${LIMITS.purchasePoints}`, `caps.${i}.maxPoints`);
    }
    return { period: cap.period, maxPoints: cap.maxPoints };
  });
  if (new Set(caps.map((c) => c.period)).size !== caps.length) throw new InputError('one cap per period', 'caps');
  return {
    currency: input.currency,
    basePoints: input.basePoints,
    perAmount: input.perAmount,
    rounding: input.rounding,
    minimumSpend: input.minimumSpend ?? null,
    multipliers,
    campaigns,
    caps,
    discountPercent: input.discountPercent ?? null,
  };
}

function checkFactor(factor: string, field: string): void {
  const value = parseDecimal(factor, field);
  if (value <= 0n || value > MAX_FACTOR) throw new InputError('a factor must be above 0 and at most 100', field);
}
