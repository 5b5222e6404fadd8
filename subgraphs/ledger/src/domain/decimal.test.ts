import { InputError } from '@loyalty-graph/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { formatDecimal, parseDecimal, roundFraction, SCALE } from './decimal';

describe('parseDecimal', () => {
  it('reads whole numbers, fractions and negatives exactly, scaled by 10^8', () => {
    expect(parseDecimal('25', 'amount')).toBe(25n * SCALE);
    expect(parseDecimal('25.00', 'amount')).toBe(25n * SCALE);
    expect(parseDecimal('0.1', 'amount')).toBe(10_000_000n);
    expect(parseDecimal('0.00000001', 'amount')).toBe(1n);
    expect(parseDecimal('-3.75', 'amount')).toBe(-375_000_000n);
    expect(parseDecimal('999999999999999999.99999999', 'amount')).toBe(10n ** 26n - 1n);
  });

  it('reads 0.1 + 0.2 as exactly 0.3, unlike floats', () => {
    expect(parseDecimal('0.1', 'a') + parseDecimal('0.2', 'a')).toBe(parseDecimal('0.3', 'a'));
  });

  it.each(['', 'abc', '1.', '.5', '+1', ' 1', '1 ', '1,50', '1e3', '0x10', '1.123456789', '1234567890123456789', '--1', 'NaN', 'Infinity'])(
    'rejects %j as an InputError naming the field',
    (text) => {
      const error = errorOf(() => parseDecimal(text, 'basket.lines.0.amount'));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('basket.lines.0.amount');
    },
  );
});

describe('formatDecimal', () => {
  it('prints two decimals by default, padding small values', () => {
    expect(formatDecimal(25n * SCALE)).toBe('25.00');
    expect(formatDecimal(5_000_000n)).toBe('0.05');
    expect(formatDecimal(0n)).toBe('0.00');
    expect(formatDecimal(-375_000_000n)).toBe('-3.75');
  });

  it('rounds half up (away from zero) at the requested precision', () => {
    expect(formatDecimal(parseDecimal('1.005', 'x'))).toBe('1.01');
    expect(formatDecimal(parseDecimal('1.00499999', 'x'))).toBe('1.00');
    expect(formatDecimal(parseDecimal('-1.005', 'x'))).toBe('-1.01');
    expect(formatDecimal(parseDecimal('2.5', 'x'), 0)).toBe('3');
    expect(formatDecimal(parseDecimal('2.49999999', 'x'), 0)).toBe('2');
  });

  it('never prints a negative zero', () => {
    expect(formatDecimal(-1n)).toBe('0.00');
    expect(formatDecimal(parseDecimal('-0.004', 'x'))).toBe('0.00');
  });

  it('prints all eight stored decimals when asked', () => {
    expect(formatDecimal(1n, 8)).toBe('0.00000001');
    expect(formatDecimal(parseDecimal('-12.3456789', 'x'), 8)).toBe('-12.34567890');
  });

  it('round-trips every canonical two-decimal amount', () => {
    const cents = fc.bigInt({ min: -(10n ** 20n - 1n), max: 10n ** 20n - 1n });
    fc.assert(
      fc.property(cents, (c) => {
        const abs = c < 0n ? -c : c;
        const text = `${c < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
        expect(formatDecimal(parseDecimal(text, 'x'))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips every stored value at full precision', () => {
    const max = 10n ** 26n - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min: -max, max }), (value) => {
        expect(parseDecimal(formatDecimal(value, 8), 'x')).toBe(value);
      }),
      { numRuns: 200 },
    );
  });
});

describe('roundFraction', () => {
  it.each([
    // num, den, FLOOR, NEAREST, CEIL
    [0n, 7n, 0n, 0n, 0n],
    [10n, 5n, 2n, 2n, 2n],
    [1n, 2n, 0n, 1n, 1n], // exactly one half
    [5n, 2n, 2n, 3n, 3n], // 2.5
    [7n, 2n, 3n, 4n, 4n], // 3.5: halves always go up, not to even
    [49n, 100n, 0n, 0n, 1n],
    [51n, 100n, 0n, 1n, 1n],
    [149n, 100n, 1n, 1n, 2n],
    [150n, 100n, 1n, 2n, 2n],
    [1n, 3n, 0n, 0n, 1n],
    [2n, 3n, 0n, 1n, 1n],
  ])('rounds %s/%s to FLOOR %s, NEAREST %s, CEIL %s', (num, den, floor, nearest, ceil) => {
    expect(roundFraction(num, den, 'FLOOR')).toBe(floor);
    expect(roundFraction(num, den, 'NEAREST')).toBe(nearest);
    expect(roundFraction(num, den, 'CEIL')).toBe(ceil);
  });

  it('refuses a negative numerator or a non-positive denominator', () => {
    expect(() => roundFraction(-1n, 2n, 'FLOOR')).toThrow();
    expect(() => roundFraction(1n, 0n, 'CEIL')).toThrow();
    expect(() => roundFraction(1n, -2n, 'NEAREST')).toThrow();
  });

  it('keeps FLOOR ≤ NEAREST ≤ CEIL, at most one apart, with FLOOR the true integer part', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), (num, den) => {
        const floor = roundFraction(num, den, 'FLOOR');
        const nearest = roundFraction(num, den, 'NEAREST');
        const ceil = roundFraction(num, den, 'CEIL');
        expect(floor <= nearest && nearest <= ceil).toBe(true);
        expect([0n, 1n]).toContain(ceil - floor);
        expect(floor * den <= num && num < (floor + 1n) * den).toBe(true);
        expect(ceil === floor).toBe(num % den === 0n);
        // NEAREST is within half a unit: |num/den − nearest| ≤ 1/2, with ties going up.
        const twiceDistance = 2n * num - 2n * nearest * den;
        expect(twiceDistance >= -den && twiceDistance < den).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
