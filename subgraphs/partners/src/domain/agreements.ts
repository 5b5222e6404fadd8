import { assertCurrencyScale, formatMoneyAmount, InputError } from '@loyalty-graph/shared';
import { checkInt, LIMITS } from './limits';

export type SettlementPeriod = 'WEEKLY' | 'MONTHLY' | 'QUARTERLY';

export interface MoneyInput {
  amount: string;
  currency: string;
}

export interface AgreementInput {
  effectiveFrom?: Date | null;
  currency: string;
  issuePricePerPoint: MoneyInput;
  redemptionPricePerPoint: MoneyInput;
  fees: { fixedPerPeriod: MoneyInput; perTransaction: MoneyInput };
  settlementPeriod: SettlementPeriod;
  prepaidPoints?: number | null;
  creditLimitPoints?: number | null;
}

export interface AgreementTerms {
  effectiveFrom: Date;
  currency: string;
  issuePrice: string;
  redemptionPrice: string;
  fixedFee: string;
  transactionFee: string;
  settlementPeriod: SettlementPeriod;
  prepaidPoints: number | null;
  creditLimitPoints: number | null;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * One amount of the agreement: in the agreement's currency (mixing currencies would make a
 * statement's sums meaningless, so it is refused, never converted), not negative, bounded.
 * `decimals` null: the currency's ISO 4217 decimals (fees are paid); a number: a rate's precision.
 */
function checkAmount(money: MoneyInput, currency: string, field: string, max: number, decimals: number | null): string {
  if (money.currency.trim().toUpperCase() !== currency) throw new InputError(`every amount must be in ${currency}, the agreement's currency`, `${field}.currency`);
  if (!DECIMAL.test(money.amount)) throw new InputError('amount must be 0 or more', `${field}.amount`);
  if (decimals === null) assertCurrencyScale(money.amount, currency, `${field}.amount`);
  else if ((money.amount.split('.')[1] ?? '').replace(/0+$/, '').length > decimals) throw new InputError(`amount has at most ${decimals} decimals`, `${field}.amount`);
  if (Number(money.amount) > max) throw new InputError(`amount must be 0 to ${max.toLocaleString('en-US')}`, `${field}.amount`);
  return formatMoneyAmount(money.amount, currency);
}

/**
 * Validates a new version. It takes effect now or later, never earlier (terms that applied in the
 * past may already be settled), and after the latest version's start, so versions are ordered by
 * their start and at any time exactly one (or none, before the first) is in force.
 */
export function checkAgreement(input: AgreementInput, now: Date, latestEffectiveFrom: Date | null): AgreementTerms {
  const currency = input.currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', 'currency');
  const effectiveFrom = input.effectiveFrom ?? now;
  if (effectiveFrom.getTime() < now.getTime()) throw new InputError('effectiveFrom must not be in the past', 'effectiveFrom');
  if (effectiveFrom.getTime() - now.getTime() > LIMITS.dateRangeDays * 86_400_000) throw new InputError(`effectiveFrom must be within ${LIMITS.dateRangeDays.toLocaleString('en-US')} days of now`, 'effectiveFrom');
  if (latestEffectiveFrom && effectiveFrom.getTime() <= latestEffectiveFrom.getTime()) {
    throw new InputError(`effectiveFrom must be after the latest version's (${latestEffectiveFrom.toISOString()})`, 'effectiveFrom');
  }
  if (input.prepaidPoints != null && input.creditLimitPoints != null) throw new InputError('an agreement has prepaid points or a credit limit, not both', 'creditLimitPoints');
  return {
    effectiveFrom,
    currency,
    issuePrice: checkAmount(input.issuePricePerPoint, currency, 'issuePricePerPoint', LIMITS.pricePerPoint, LIMITS.pricePerPointDecimals),
    redemptionPrice: checkAmount(input.redemptionPricePerPoint, currency, 'redemptionPricePerPoint', LIMITS.pricePerPoint, LIMITS.pricePerPointDecimals),
    fixedFee: checkAmount(input.fees.fixedPerPeriod, currency, 'fees.fixedPerPeriod', LIMITS.feeAmount, null),
    transactionFee: checkAmount(input.fees.perTransaction, currency, 'fees.perTransaction', LIMITS.feeAmount, null),
    settlementPeriod: input.settlementPeriod,
    prepaidPoints: input.prepaidPoints == null ? null : checkInt(input.prepaidPoints, 'prepaidPoints', 1, LIMITS.points),
    creditLimitPoints: input.creditLimitPoints == null ? null : checkInt(input.creditLimitPoints, 'creditLimitPoints', 1, LIMITS.points),
  };
}

/** The version in force at `at`: the latest one effective then or earlier; null before the first. */
export function agreementInForce<V extends { effectiveFrom: Date }>(versions: readonly V[], at: Date): V | null {
  let found: V | null = null;
  for (const version of versions) {
    if (version.effectiveFrom.getTime() <= at.getTime() && (!found || version.effectiveFrom.getTime() > found.effectiveFrom.getTime())) found = version;
  }
  return found;
}

/** When a version stopped being in force: the next version's start; null for the latest. */
export function effectiveUntil<V extends { effectiveFrom: Date }>(versions: readonly V[], version: V): Date | null {
  const later = versions.filter((v) => v.effectiveFrom.getTime() > version.effectiveFrom.getTime()).map((v) => v.effectiveFrom.getTime());
  return later.length ? new Date(Math.min(...later)) : null;
}
