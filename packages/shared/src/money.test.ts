import { describe, expect, it } from 'vitest';
import { InputError } from './errors';
import { assertCurrencyScale, currencyDigits, formatMoneyAmount } from './money';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('currencyDigits', () => {
  it('follows ISO 4217: EUR 2, JPY 0, KWD 3, CLF 4, and 2 for every code not listed', () => {
    expect([currencyDigits('EUR'), currencyDigits('JPY'), currencyDigits('KWD'), currencyDigits('CLF'), currencyDigits('PLN')]).toEqual([2, 0, 3, 4, 2]);
  });

  it('keeps ISO’s digits where CLDR (Intl) shows fewer, so a valid amount stays valid across Node releases', () => {
    // Intl says 0 for IQD (display practice); ISO 4217 says 3 (what a payment can carry).
    expect(currencyDigits('IQD')).toBe(3);
  });
});

describe('formatMoneyAmount', () => {
  it('shows an amount at its currency’s decimals', () => {
    expect(formatMoneyAmount('50.5', 'EUR')).toBe('50.50');
    expect(formatMoneyAmount('50.50', 'EUR')).toBe('50.50');
    expect(formatMoneyAmount('50.5000', 'EUR')).toBe('50.50');
    expect(formatMoneyAmount('1500.0000', 'JPY')).toBe('1500');
    expect(formatMoneyAmount('1.2500', 'KWD')).toBe('1.250');
    expect(formatMoneyAmount('0', 'EUR')).toBe('0.00');
  });

  it('keeps digits beyond the currency’s when they carry value (a rate), without PostgreSQL’s padding', () => {
    expect(formatMoneyAmount('0.00500000', 'EUR')).toBe('0.005');
    expect(formatMoneyAmount('0.01000000', 'EUR')).toBe('0.01');
    expect(formatMoneyAmount('1.50000000', 'JPY')).toBe('1.5');
  });

  it('never shows a negative zero or leading zeros', () => {
    expect(formatMoneyAmount('-0.000', 'EUR')).toBe('0.00');
    expect(formatMoneyAmount('-012.3', 'EUR')).toBe('-12.30');
  });
});

describe('assertCurrencyScale', () => {
  it('accepts up to the currency’s decimals, and trailing zeros beyond them', () => {
    for (const [amount, currency] of [['10.05', 'EUR'], ['10', 'EUR'], ['1500', 'JPY'], ['1500.00', 'JPY'], ['1.234', 'KWD']]) {
      expect(() => assertCurrencyScale(amount!, currency!, 'amount'), `${amount} ${currency}`).not.toThrow();
    }
  });

  it.each([
    ['10.005', 'EUR'],
    ['100.5', 'JPY'],
    ['1.2345', 'KWD'],
  ])('refuses %s %s, naming the field and the currency’s decimals', (amount, currency) => {
    const error = errorOf(() => assertCurrencyScale(amount, currency, 'basket.lines.0.amount'));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('basket.lines.0.amount');
    expect((error as InputError).message).toContain(`${currency} amounts have at most ${currencyDigits(currency)} decimal`);
  });
});
