import { describe, expect, it } from 'vitest';
import { formatScaled, roundHalfUp, toScaled, valuePoints } from './money';

describe('money arithmetic (the ledger’s liability rounding)', () => {
  it('values points at the currency’s decimals, rounding half up, without floats', () => {
    expect(valuePoints(70n, '0.0125', 2)).toBe('0.88');
    expect(valuePoints(150n, '0.0125', 2)).toBe('1.88');
    expect(valuePoints(220n, '0.0125', 2)).toBe('2.75');
    expect(valuePoints(3n, '0.005', 2)).toBe('0.02');
    expect(valuePoints(1n, '0.004', 2)).toBe('0.00');
    expect(valuePoints(1_234n, '7', 0)).toBe('8638');
    expect(valuePoints(-3n, '0.005', 2)).toBe('-0.02');
    // Beyond a double's exact integers: 2^60 points at 0.01.
    expect(valuePoints(2n ** 60n, '0.01', 2)).toBe('11529215046068469.76');
  });

  it('reads PostgreSQL’s numeric text and rounds halves away from zero', () => {
    expect(toScaled('100.0000')).toBe(100n * 10n ** 8n);
    expect(toScaled('-0.5')).toBe(-(5n * 10n ** 7n));
    expect(() => toScaled('1e3')).toThrow(TypeError);
    expect(roundHalfUp(5n, 2n)).toBe(3n);
    expect(roundHalfUp(-5n, 2n)).toBe(-3n);
    expect(formatScaled(toScaled('0.125'), 2)).toBe('0.13');
    expect(formatScaled(toScaled('-0.004'), 2)).toBe('0.00');
  });
});
