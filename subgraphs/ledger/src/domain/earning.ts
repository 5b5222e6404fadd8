import { assertCurrencyScale, currencyDigits, DomainError, InputError } from '@loyalty-graph/shared';
import { checkListLength, LIMITS } from './limits';
import { formatDecimal, parseDecimal, roundFraction, SCALE, type Rounding } from './decimal';

export type MultiplierDimension = 'TIER' | 'CATEGORY' | 'SKU' | 'CHANNEL' | 'PARTNER';
export type CapPeriod = 'DAY' | 'MONTH' | 'YEAR';

/** One published version of a program's earning rules (stored as JSON, validated on publish). */
export interface EarningRules {
  currency: string;
  basePoints: number;
  perAmount: string;
  rounding: Rounding;
  minimumSpend: string | null;
  multipliers: { dimension: MultiplierDimension; value: string; factor: string }[];
  campaigns: { name: string; startsAt: string; endsAt: string; factor: string; categories: string[]; channels: string[] }[];
  caps: { period: CapPeriod; maxPoints: number }[];
  /** Set in DISCOUNT programs: the basket gets this percent off and earns no points. */
  discountPercent: string | null;
}

export interface BasketLine {
  lineId: string;
  sku: string;
  category: string;
  quantity: number;
  amount: string;
}

export interface Basket {
  currency: string;
  channel: string;
  partnerId?: string | null;
  lines: BasketLine[];
}

export interface EarningContext {
  tierId: string | null;
  occurredAt: Date;
  /** Points the member already earned in the current DAY / MONTH / YEAR, for caps. */
  earnedInPeriod: Record<CapPeriod, number>;
  /** Analytics' experiments treating the member at `occurredAt` (ExperimentVariantAssigned.earnMultiplier). */
  treatments?: readonly EarningTreatment[];
}

/** An experiment's multiplier on a member's earning: applied after the rules' factors, before rounding and caps. */
export interface EarningTreatment {
  /** Says which experiment and variant, in the line's explanation. */
  label: string;
  /** A positive decimal, e.g. "1.5". */
  factor: string;
}

export interface EarnedLine {
  lineId: string;
  points: number;
  explanation: string[];
}

export interface Earning {
  points: number;
  /** Tier-qualifying points: the reward points actually earned (after caps). */
  statusPoints: number;
  lines: EarnedLine[];
  notes: string[];
  total: string;
  /** DISCOUNT programs only. */
  discount: string | null;
}

const MAX_LINE_AMOUNT = BigInt(LIMITS.lineAmount) * SCALE;
/** Points are stored as 32-bit integers; no real basket comes near this. */
export const MAX_POINTS_PER_PURCHASE = LIMITS.purchasePoints;

/** Rejects a malformed basket before anything is computed or stored. */
export function validateBasket(basket: Basket): void {
  if (!/^[A-Z]{3}$/.test(basket.currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', 'basket.currency');
  if (basket.lines.length === 0) throw new InputError('A basket has at least one line', 'basket.lines');
  checkListLength(basket.lines, 'basket.lines', LIMITS.basketLines);
  const seen = new Set<string>();
  const code = LIMITS.codeLength;
  basket.lines.forEach((line, i) => {
    const field = `basket.lines.${i}`;
    if (!line.lineId || line.lineId.length > code) throw new InputError(`lineId must be 1 to ${code} characters`, `${field}.lineId`);
    if (seen.has(line.lineId)) throw new InputError(`lineId ${line.lineId} appears twice`, `${field}.lineId`);
    seen.add(line.lineId);
    if (!line.sku || line.sku.length > code) throw new InputError(`sku must be 1 to ${code} characters`, `${field}.sku`);
    if (!line.category || line.category.length > code) throw new InputError(`category must be 1 to ${code} characters`, `${field}.category`);
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > LIMITS.lineQuantity) {
      throw new InputError(`quantity must be a whole number from 1 to ${LIMITS.lineQuantity}`, `${field}.quantity`);
    }
    const amount = parseDecimal(line.amount, `${field}.amount`);
    if (amount < 0n) throw new InputError('amount cannot be negative', `${field}.amount`);
    if (amount > MAX_LINE_AMOUNT) throw new InputError(`amount is larger than any real purchase line (at most ${LIMITS.lineAmount})`, `${field}.amount`);
    assertCurrencyScale(line.amount, basket.currency, `${field}.amount`);
  });
}

/**
 * What a basket earns under one rule set, line by line, with the reasons. Pure: the same inputs
 * always give the same points, which is what lets a past purchase be explained later.
 *
 * Per line: amount / perAmount × basePoints × every matching multiplier × every running campaign,
 * rounded by the program's rule. Then the minimum spend and the caps apply to the basket; a cap's
 * reduction is shared across lines in proportion, so returns reverse exactly what a line earned.
 */
export function computeEarning(rules: EarningRules, basket: Basket, context: EarningContext): Earning {
  validateBasket(basket);
  if (basket.currency !== rules.currency) {
    throw new DomainError('CURRENCY_MISMATCH', `The program earns on ${rules.currency} purchases, not ${basket.currency}`, 'basket.currency');
  }
  const totalScaled = basket.lines.reduce((sum, line) => sum + parseDecimal(line.amount, 'amount'), 0n);
  // The total and a discount are money in the basket's currency: shown at its decimals (JPY 0).
  const digits = currencyDigits(basket.currency);
  const total = formatDecimal(totalScaled, digits);

  if (rules.discountPercent !== null) {
    const discount = (totalScaled * parseDecimal(rules.discountPercent, 'discountPercent')) / (100n * SCALE);
    return { points: 0, statusPoints: 0, lines: basket.lines.map((l) => ({ lineId: l.lineId, points: 0, explanation: ['discount program: no points'] })), notes: [`${rules.discountPercent}% discount`], total, discount: formatDecimal(discount, digits) };
  }

  const notes: string[] = [];
  if (rules.minimumSpend !== null && totalScaled < parseDecimal(rules.minimumSpend, 'minimumSpend')) {
    notes.push(`basket total ${total} is below the minimum spend of ${rules.minimumSpend}`);
    return { points: 0, statusPoints: 0, lines: basket.lines.map((l) => ({ lineId: l.lineId, points: 0, explanation: ['below minimum spend'] })), notes, total, discount: null };
  }

  const perAmount = parseDecimal(rules.perAmount, 'perAmount');
  const lines = basket.lines.map((line): EarnedLine => {
    const amount = parseDecimal(line.amount, 'amount');
    let num = amount * BigInt(rules.basePoints);
    let den = perAmount;
    const explanation = [`base ${rules.basePoints} per ${rules.perAmount} on ${formatDecimal(amount, digits)}`];
    // The experiment's multiplier comes after every rule factor, in the same exact fraction, so the
    // program's rounding applies once to the treated points and caps still bound the result.
    for (const factor of [...applicableFactors(rules, basket, line, context), ...(context.treatments ?? [])]) {
      num *= parseDecimal(factor.factor, 'factor');
      den *= SCALE;
      explanation.push(`${factor.label} ×${factor.factor}`);
    }
    const exact = roundFraction(num, den, rules.rounding);
    if (exact > BigInt(MAX_POINTS_PER_PURCHASE)) {
      throw new DomainError('POINTS_LIMIT_EXCEEDED', `Line ${line.lineId} would earn more than ${MAX_POINTS_PER_PURCHASE} points`, 'basket.lines');
    }
    const points = Number(exact);
    explanation.push(`rounded ${rules.rounding.toLowerCase()} = ${points}`);
    return { lineId: line.lineId, points, explanation };
  });

  const uncapped = lines.reduce((sum, line) => sum + line.points, 0);
  if (uncapped > MAX_POINTS_PER_PURCHASE) throw new DomainError('POINTS_LIMIT_EXCEEDED', `The basket would earn more than ${MAX_POINTS_PER_PURCHASE} points`, 'basket');
  const allowed = Math.max(0, Math.min(uncapped, ...rules.caps.map((cap) => cap.maxPoints - context.earnedInPeriod[cap.period])));
  if (allowed < uncapped) {
    notes.push(`capped from ${uncapped} to ${allowed} points by the program's earning caps`);
    shareReduction(lines, allowed);
  }
  return { points: allowed, statusPoints: allowed, lines, notes, total, discount: null };
}

function applicableFactors(rules: EarningRules, basket: Basket, line: BasketLine, context: EarningContext) {
  const valueOf: Record<MultiplierDimension, string | null | undefined> = {
    TIER: context.tierId,
    CATEGORY: line.category,
    SKU: line.sku,
    CHANNEL: basket.channel,
    PARTNER: basket.partnerId,
  };
  const factors = rules.multipliers
    .filter((m) => valueOf[m.dimension] === m.value)
    .map((m) => ({ label: `${m.dimension} ${m.value}`, factor: m.factor }));
  const at = context.occurredAt.getTime();
  for (const campaign of rules.campaigns) {
    const running = Date.parse(campaign.startsAt) <= at && at < Date.parse(campaign.endsAt);
    const category = campaign.categories.length === 0 || campaign.categories.includes(line.category);
    const channel = campaign.channels.length === 0 || campaign.channels.includes(basket.channel);
    if (running && category && channel) factors.push({ label: `campaign ${campaign.name}`, factor: campaign.factor });
  }
  return factors;
}

/** Scales line points down to `target` in proportion (largest remainder), keeping integers. */
function shareReduction(lines: EarnedLine[], target: number): void {
  const total = lines.reduce((sum, line) => sum + line.points, 0);
  if (total === 0) return;
  // Integer arithmetic only: points × target stays far below 2^53 for any real basket.
  const floors = lines.map((line) => Math.floor((line.points * target) / total));
  let left = target - floors.reduce((a, b) => a + b, 0);
  const order = lines.map((line, i) => ({ i, rest: (line.points * target) % total })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i]! += 1;
    left -= 1;
  }
  lines.forEach((line, i) => {
    if (floors[i] !== line.points) line.explanation.push(`capped to ${floors[i]}`);
    line.points = floors[i]!;
  });
}

/** Start of the calendar period (UTC) containing `at`, for caps. */
export function periodStart(period: CapPeriod, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  if (period === 'YEAR') return new Date(Date.UTC(y, 0, 1));
  if (period === 'MONTH') return new Date(Date.UTC(y, m, 1));
  return new Date(Date.UTC(y, m, at.getUTCDate()));
}
