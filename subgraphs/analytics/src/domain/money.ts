/**
 * Exact money arithmetic on BigInt scaled by 10^8 (as the ledger values its liability), so
 * analytics' liability equals the ledger's to the cent: no float ever touches an amount.
 */
export const SCALE = 10n ** 8n;

/** A decimal string ("12.5", "-0.005", PostgreSQL's "100.0000") as units of 10^-8. */
export function toScaled(text: string): bigint {
  const match = /^(-?)(\d{1,20})(?:\.(\d{1,8})\d*)?$/.exec(text.trim());
  if (!match) throw new TypeError(`${text} is not a decimal number`);
  const [, sign, whole, fraction = ''] = match;
  const value = BigInt(whole!) * SCALE + BigInt(fraction.padEnd(8, '0'));
  return sign === '-' ? -value : value;
}

/** Rounds num/den to an integer, halves away from zero (the ledger's "half up" for positive sums). */
export function roundHalfUp(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('roundHalfUp needs a positive denominator');
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const rounded = (2n * abs + den) / (2n * den);
  return negative ? -rounded : rounded;
}

/** A scaled amount as text at `digits` decimals, rounded half up (the ledger's formatDecimal). */
export function formatScaled(value: bigint, digits: number): string {
  const unit = 10n ** BigInt(8 - digits);
  const rounded = roundHalfUp(value, unit);
  const negative = rounded < 0n;
  const text = (negative ? -rounded : rounded).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return `${negative ? '-' : ''}${whole}${digits ? `.${fraction}` : ''}`;
}

/** Points × the value of one point, at the currency's decimals (rounded half up), as the ledger's outstandingLiability. */
export function valuePoints(points: bigint, pointValue: string, digits: number): string {
  return formatScaled(points * toScaled(pointValue), digits);
}

/** Rounds a scaled amount to `digits` decimals, staying scaled (so later steps use the rounded figure, as accounts do). */
export function roundScaled(value: bigint, digits: number): bigint {
  const unit = 10n ** BigInt(8 - digits);
  return roundHalfUp(value, unit) * unit;
}
