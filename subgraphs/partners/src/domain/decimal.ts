/**
 * Exact decimal arithmetic for settlement amounts, as BigInt counts of 10⁻⁸ (prices per point have
 * up to 8 decimals, so points × price is exact at that scale). No floats anywhere: a statement must
 * add up to the last cent every time.
 */
export const SCALE = 8;
const UNIT = 10n ** BigInt(SCALE);
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** "12.5" → 1_250_000_000n. Refuses more than 8 decimals (never rounds silently). */
export function toUnits(text: string): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new TypeError(`${text} is not a decimal amount`);
  const [, sign, whole, fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > SCALE) throw new TypeError(`${text} has more than ${SCALE} decimals`);
  const units = BigInt(whole!) * UNIT + BigInt(significant.padEnd(SCALE, '0') || '0');
  return sign ? -units : units;
}

/**
 * Rounds to `digits` decimals, half to even (banker's rounding): over many lines, halves round up
 * as often as down, so rounding does not drift one way between operator and partner.
 */
export function roundHalfEven(units: bigint, digits: number): bigint {
  const step = 10n ** BigInt(SCALE - digits);
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  let quotient = magnitude / step;
  const remainder = magnitude % step;
  const twice = remainder * 2n;
  if (twice > step || (twice === step && quotient % 2n === 1n)) quotient += 1n;
  const rounded = quotient * step;
  return negative ? -rounded : rounded;
}

/** Units as text with exactly `digits` decimals (the value must already have no more). */
export function formatUnits(units: bigint, digits: number): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const whole = magnitude / UNIT;
  const fraction = (magnitude % UNIT).toString().padStart(SCALE, '0');
  if (/[1-9]/.test(fraction.slice(digits))) throw new RangeError(`${units} has more than ${digits} decimals`);
  const shown = digits > 0 ? `${whole}.${fraction.slice(0, digits)}` : `${whole}`;
  return negative && magnitude !== 0n ? `-${shown}` : shown;
}

/** Units as text with as many decimals as needed (at least `minDigits`): an exact amount. */
export function formatExact(units: bigint, minDigits: number): string {
  const fraction = (units < 0n ? -units : units) % UNIT;
  const needed = fraction === 0n ? 0 : SCALE - (fraction.toString().padStart(SCALE, '0').match(/0*$/)![0].length);
  return formatUnits(units, Math.max(minDigits, needed));
}
