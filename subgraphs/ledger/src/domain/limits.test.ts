import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { checkListLength, checkPoints, checkText, optionalText } from './limits';

describe('checkPoints', () => {
  it('accepts whole numbers in the range and names the range when refusing', () => {
    expect(() => checkPoints(1, 'points', 1, 10)).not.toThrow();
    expect(() => checkPoints(10, 'points', 1, 10)).not.toThrow();
    for (const value of [0, 11, 1.5, Number.NaN]) {
      const error = errorOf(() => checkPoints(value, 'points', 1, 10));
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ field: 'points', message: 'points must be a whole number from 1 to 10' });
    }
  });

  it('allows both signs but not zero for corrections', () => {
    expect(() => checkPoints(-10, 'points', -10, 10, true)).not.toThrow();
    expect(errorOf(() => checkPoints(0, 'points', -10, 10, true))).toMatchObject({ message: 'points must be a whole number from -10 to 10, not 0' });
    expect(errorOf(() => checkPoints(-11, 'points', -10, 10, true))).toBeInstanceOf(InputError);
  });
});

describe('text and lists', () => {
  it('trims text and refuses blank or long text, naming the field', () => {
    expect(checkText('  hello ', 'comment', 5)).toBe('hello');
    expect(errorOf(() => checkText('   ', 'comment', 5))).toMatchObject({ field: 'comment' });
    expect(errorOf(() => checkText('toolong', 'comment', 5))).toMatchObject({ message: 'comment must be 1 to 5 characters' });
    expect(optionalText('  ', 'message', 5)).toBeNull();
    expect(errorOf(() => optionalText('x'.repeat(6), 'message', 5))).toBeInstanceOf(InputError);
  });

  it('refuses a list over its bound, saying how long it was', () => {
    expect(() => checkListLength([1, 2], 'lines', 2)).not.toThrow();
    expect(() => checkListLength(null, 'lines', 2)).not.toThrow();
    expect(errorOf(() => checkListLength([1, 2, 3], 'lines', 2))).toMatchObject({ field: 'lines', message: 'lines has at most 2 items, got 3' });
  });
});
