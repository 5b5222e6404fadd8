import { InputError } from '@loyalty-graph/shared';

/**
 * Exact decimal arithmetic on BigInt, scaled by 10^8: points are computed from money without a
 * single float, so the same basket always earns the same points on every machine.
 */
export const SCALE = 10n ** 8n;

export function parseDecimal(text: string, field: string): bigint {
  const match = /^(-?)(\d{1,18})(?:\.(\d{1,8}))?$/.exec(text);
  if (!match) throw new InputError(`${text} is not a decimal number`, field);
  const [, sign, whole, fraction = ''] = match;
  const value = BigInt(whole!) * SCALE + BigInt(fraction.padEnd(8, '0'));
  return sign === '-' ? -value : value;
}

export function formatDecimal(value: bigint, fractionDigits = 2): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const unit = 10n ** BigInt(8 - fractionDigits);
  const rounded = (abs + unit / 2n) / unit; // half up at the requested precision
  const text = rounded.toString().padStart(fractionDigits + 1, '0');
  const whole = text.slice(0, text.length - fractionDigits);
  const fraction = text.slice(text.length - fractionDigits);
  return `${negative && rounded !== 0n ? '-' : ''}${whole}${fractionDigits ? `.${fraction}` : ''}`;
}

export type Rounding = 'FLOOR' | 'NEAREST' | 'CEIL';

/** Rounds a non-negative fraction num/den to an integer. NEAREST rounds halves up. */
export function roundFraction(num: bigint, den: bigint, rounding: Rounding): bigint {
  if (num < 0n || den <= 0n) throw new Error('roundFraction expects a non-negative fraction');
  switch (rounding) {
    case 'FLOOR':
      return num / den;
    case 'CEIL':
      return (num + den - 1n) / den;
    case 'NEAREST':
      return (2n * num + den) / (2n * den);
  }
}
