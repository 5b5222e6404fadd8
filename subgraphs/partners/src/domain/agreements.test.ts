import { describe, expect, it } from 'vitest';
import { InputError } from '@loyalty-graph/shared';
import { agreementInForce, checkAgreement, effectiveUntil, type AgreementInput } from './agreements';

const now = new Date('2026-06-01T00:00:00Z');
const eur = (amount: string, currency = 'EUR') => ({ amount, currency });
const input = (over: Partial<AgreementInput> = {}): AgreementInput => ({
  currency: 'EUR',
  issuePricePerPoint: eur('0.0100'),
  redemptionPricePerPoint: eur('0.0075'),
  fees: { fixedPerPeriod: eur('250'), perTransaction: eur('0.02') },
  settlementPeriod: 'MONTHLY',
  ...over,
});
const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return null;
};

describe('checkAgreement', () => {
  it('takes effect now by default, with amounts at the currency’s decimals and rates finer than cents', () => {
    expect(checkAgreement(input(), now, null)).toEqual({
      effectiveFrom: now,
      currency: 'EUR',
      issuePrice: '0.01',
      redemptionPrice: '0.0075',
      fixedFee: '250.00',
      transactionFee: '0.02',
      settlementPeriod: 'MONTHLY',
      prepaidPoints: null,
      creditLimitPoints: null,
    });
  });

  it('refuses mixing currencies, naming the amount', () => {
    expect(fieldOf(() => checkAgreement(input({ redemptionPricePerPoint: eur('0.01', 'USD') }), now, null))).toBe('redemptionPricePerPoint.currency');
    expect(fieldOf(() => checkAgreement(input({ fees: { fixedPerPeriod: eur('1'), perTransaction: eur('1', 'DKK') } }), now, null))).toBe('fees.perTransaction.currency');
  });

  it('refuses fees with more decimals than the currency has (JPY none, EUR two), and negative amounts', () => {
    expect(fieldOf(() => checkAgreement(input({ fees: { fixedPerPeriod: eur('10.005'), perTransaction: eur('0') } }), now, null))).toBe('fees.fixedPerPeriod.amount');
    const yen = (a: string) => ({ amount: a, currency: 'JPY' });
    const jpy = { currency: 'JPY', issuePricePerPoint: yen('1'), redemptionPricePerPoint: yen('0.5'), fees: { fixedPerPeriod: yen('1000'), perTransaction: yen('1.5') } };
    expect(fieldOf(() => checkAgreement(input(jpy), now, null))).toBe('fees.perTransaction.amount');
    expect(fieldOf(() => checkAgreement(input({ issuePricePerPoint: eur('-1') }), now, null))).toBe('issuePricePerPoint.amount');
    expect(fieldOf(() => checkAgreement(input({ issuePricePerPoint: eur('0.000000001') }), now, null))).toBe('issuePricePerPoint.amount');
  });

  it('starts never in the past and only after the latest version; prepaid points or a credit limit, not both', () => {
    expect(fieldOf(() => checkAgreement(input({ effectiveFrom: new Date(now.getTime() - 1) }), now, null))).toBe('effectiveFrom');
    expect(fieldOf(() => checkAgreement(input({ effectiveFrom: now }), now, now))).toBe('effectiveFrom');
    expect(checkAgreement(input({ effectiveFrom: new Date(now.getTime() + 1) }), now, now).effectiveFrom).toEqual(new Date(now.getTime() + 1));
    expect(fieldOf(() => checkAgreement(input({ prepaidPoints: 1, creditLimitPoints: 1 }), now, null))).toBe('creditLimitPoints');
    expect(fieldOf(() => checkAgreement(input({ prepaidPoints: 0 }), now, null))).toBe('prepaidPoints');
  });
});

describe('agreementInForce', () => {
  const day = (d: number) => new Date(Date.UTC(2026, 5, d));
  const versions = [{ v: 3, effectiveFrom: day(20) }, { v: 1, effectiveFrom: day(1) }, { v: 2, effectiveFrom: day(10) }];

  it('is the latest version effective at that time or earlier, none before the first', () => {
    expect(agreementInForce(versions, new Date(day(1).getTime() - 1))).toBeNull();
    expect(agreementInForce(versions, day(1))?.v).toBe(1);
    expect(agreementInForce(versions, new Date(day(10).getTime() - 1))?.v).toBe(1);
    expect(agreementInForce(versions, day(10))?.v).toBe(2);
    expect(agreementInForce(versions, day(30))?.v).toBe(3);
  });

  it('ends each version where the next starts', () => {
    expect(effectiveUntil(versions, versions[1]!)).toEqual(day(10));
    expect(effectiveUntil(versions, versions[0]!)).toBeNull();
  });
});
