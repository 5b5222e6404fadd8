import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { BigIntScalar, canonicalDecimal, DateTimeScalar, DecimalScalar, normalizeDecimal } from './scalars';

const str = (value: string): ValueNode => ({ kind: Kind.STRING, value });
const int = (value: string): ValueNode => ({ kind: Kind.INT, value });
const float = (value: string): ValueNode => ({ kind: Kind.FLOAT, value });

function expectBadInput(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions['code']).toBe('BAD_USER_INPUT');
    return;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('DateTime', () => {
  it('is always sent in UTC', () => {
    expect(DateTimeScalar.serialize(new Date(Date.UTC(2026, 10, 22, 12)))).toBe('2026-11-22T12:00:00.000Z');
    expect(DateTimeScalar.serialize('2026-11-22T14:00:00+02:00')).toBe('2026-11-22T12:00:00.000Z');
  });

  it('refuses to send something that is not a date', () => {
    expect(() => DateTimeScalar.serialize('not a date')).toThrow(TypeError);
  });

  it('reads ISO-8601 instants with a time zone, from variables and literals', () => {
    expect(DateTimeScalar.parseValue('2026-11-22T14:00:00+02:00')).toEqual(new Date('2026-11-22T12:00:00Z'));
    expect(DateTimeScalar.parseLiteral(str('2026-11-22T12:00Z'))).toEqual(new Date('2026-11-22T12:00:00Z'));
  });

  it.each(['2026-11-22T12:00:00', '2026-11-22', '22/11/2026 12:00', '2026-02-30T00:00:00Z', '2026-11-22T25:00:00Z'])(
    'rejects %j',
    (value) => {
      expectBadInput(() => DateTimeScalar.parseValue(value));
    },
  );

  it('rejects a timestamp given as a number', () => {
    expectBadInput(() => DateTimeScalar.parseValue(1_764_000_000_000));
    expectBadInput(() => DateTimeScalar.parseLiteral(int('1764000000000')));
  });
});

describe('Decimal', () => {
  it('keeps money exact as a string, with the decimals it was given', () => {
    expect(DecimalScalar.parseValue('50.50')).toBe('50.50');
    expect(DecimalScalar.serialize('50.50')).toBe('50.50');
    expect(DecimalScalar.parseLiteral(str('0.10'))).toBe('0.10');
    expect(DecimalScalar.parseLiteral(float('3.25'))).toBe('3.25');
    expect(DecimalScalar.parseValue(7)).toBe('7');
  });

  it('spells each value and scale one way: no leading zeros, no negative zero', () => {
    expect(DecimalScalar.parseValue('007.50')).toBe('7.50');
    expect(DecimalScalar.parseValue('-0.00')).toBe('0.00');
    expect(DecimalScalar.serialize('-0')).toBe('0');
    expect(canonicalDecimal('-12.30')).toBe('-12.30');
    expect(canonicalDecimal('0.05')).toBe('0.05');
  });

  it.each(['1e3', '12,50', '1.123456789', '1234567890123456789', 'abc', ''])('rejects %j', (value) => {
    expectBadInput(() => DecimalScalar.parseValue(value));
  });

  it('rejects a float that has already lost precision', () => {
    expectBadInput(() => DecimalScalar.parseValue(0.1 + 0.2));
  });

  it('refuses to send a value it cannot represent exactly', () => {
    expect(() => DecimalScalar.serialize('1e3')).toThrow(TypeError);
  });
});

describe('normalizeDecimal', () => {
  it('drops trailing fractional zeros only', () => {
    expect(normalizeDecimal('1.500000')).toBe('1.5');
    expect(normalizeDecimal('10.000')).toBe('10');
    expect(normalizeDecimal('100')).toBe('100');
    expect(normalizeDecimal('-0.000')).toBe('0');
  });
});

describe('BigInt', () => {
  it('sends integers beyond 2^53 as exact strings', () => {
    expect(BigIntScalar.serialize(9_007_199_254_740_993n)).toBe('9007199254740993');
    expect(BigIntScalar.serialize(42)).toBe('42');
    expect(BigIntScalar.serialize('-17')).toBe('-17');
  });

  it('refuses to send fractions or text', () => {
    expect(() => BigIntScalar.serialize(1.5)).toThrow(TypeError);
    expect(() => BigIntScalar.serialize('12a')).toThrow(TypeError);
  });

  it('reads the full 64-bit range from strings, safe numbers and literals', () => {
    expect(BigIntScalar.parseValue('9223372036854775807')).toBe(2n ** 63n - 1n);
    expect(BigIntScalar.parseValue('-9223372036854775808')).toBe(-(2n ** 63n));
    expect(BigIntScalar.parseValue(12)).toBe(12n);
    expect(BigIntScalar.parseLiteral(int('9007199254740993'))).toBe(9_007_199_254_740_993n);
  });

  it('rejects values outside 64 bits, unsafe numbers and non-integers', () => {
    expectBadInput(() => BigIntScalar.parseValue('9223372036854775808'));
    expectBadInput(() => BigIntScalar.parseValue(2 ** 60));
    expectBadInput(() => BigIntScalar.parseValue('1.0'));
    expectBadInput(() => BigIntScalar.parseLiteral({ kind: Kind.BOOLEAN, value: true }));
  });
});
