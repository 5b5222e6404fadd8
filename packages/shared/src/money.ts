import { InputError } from './errors';

/**
 * Minor units (digits after the decimal point) of the ISO 4217 currencies that do not use 2.
 * A table rather than `Intl.NumberFormat(…).resolvedOptions().maximumFractionDigits`: Intl
 * reports CLDR's *display* digits, which differ from ISO 4217 for a dozen currencies (Node 24
 * shows COP, HUF, IDR and LBP with 0 digits, IQD with 0 instead of 3, though payments in them
 * carry decimals), and CLDR changes with the ICU inside each Node release. Whether a stored amount is valid must not change with a
 * Node upgrade. Source: ISO 4217 list one (SIX, 2024); every other code has 2.
 */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** How many decimals an amount of this currency has (EUR 2, JPY 0, KWD 3). */
export function currencyDigits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * An amount as it is shown for its currency: at least the currency's decimals (50.5 EUR is
 * "50.50", 1500.0000 JPY is "1500"), and digits beyond them only when they are not zeros, so a
 * rate such as a point worth 0.005 EUR keeps its precision while PostgreSQL's padding
 * (numeric(18,8) gives "0.01000000") is dropped. Never rounds.
 */
export function formatMoneyAmount(amount: string, currency: string): string {
  const match = DECIMAL_TEXT.exec(amount);
  if (!match) throw new TypeError(`${amount} is not a decimal amount`);
  const [, sign, whole, fraction = ''] = match;
  const digits = currencyDigits(currency);
  const significant = fraction.replace(/0+$/, '');
  const shown = significant.length >= digits ? significant : significant.padEnd(digits, '0');
  const integer = whole!.replace(/^0+(?=\d)/, '');
  const zero = /^0*$/.test(integer + shown);
  return `${sign && !zero ? '-' : ''}${integer}${shown ? `.${shown}` : ''}`;
}

/**
 * Refuses an amount with more decimals than its currency has (10.005 EUR, 100.5 JPY): a payment
 * cannot carry them, so such an amount is a mistake in the calling system, not something to round.
 * Trailing zeros are not decimals the currency lacks ("1500.00" JPY is 1500).
 */
export function assertCurrencyScale(amount: string, currency: string, field: string): void {
  const fraction = DECIMAL_TEXT.exec(amount)?.[3] ?? '';
  const digits = currencyDigits(currency);
  if (fraction.replace(/0+$/, '').length > digits) {
    throw new InputError(`${currency} amounts have at most ${digits} decimal${digits === 1 ? '' : 's'}, ${amount} has more`, field);
  }
}
