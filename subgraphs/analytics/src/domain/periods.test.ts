import { describe, expect, it } from 'vitest';
import { averagePerPurchase } from './kpis';
import { bucketsBetween, bucketStart, MAX_BUCKETS, type Period } from './periods';

const at = (iso: string) => new Date(iso);
const starts = (period: Period, from: string, to: string) => {
  const result = bucketsBetween(period, at(from), at(to));
  if (!result.ok) throw new Error(result.message);
  return result.buckets.map((b) => b.start.toISOString().slice(0, 10));
};

describe('bucketStart', () => {
  it('starts weeks on Monday, in UTC, for every day of the week (Sunday included)', () => {
    // 2026-11-30 is a Monday; 2026-12-06 the Sunday after it.
    for (const day of ['2026-11-30', '2026-12-01', '2026-12-04', '2026-12-06']) expect(bucketStart('WEEK', at(`${day}T23:59:59.999Z`)).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(bucketStart('WEEK', at('2026-12-07T00:00:00Z')).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    // A week crossing the year: Thursday 1 January 2026 belongs to the week of Monday 29 December 2025.
    expect(bucketStart('WEEK', at('2026-01-01T12:00:00Z')).toISOString()).toBe('2025-12-29T00:00:00.000Z');
  });

  it('puts quarter boundaries on 1 January, April, July and October', () => {
    expect(bucketStart('QUARTER', at('2026-03-31T23:59:59.999Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(bucketStart('QUARTER', at('2026-04-01T00:00:00Z')).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(bucketStart('QUARTER', at('2026-09-30T12:00:00Z')).toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(bucketStart('QUARTER', at('2026-12-31T23:59:59Z')).toISOString()).toBe('2026-10-01T00:00:00.000Z');
  });

  it('counts in UTC whatever the offset the instant was written with', () => {
    // 00:30 on 1 April in Paris is still 31 March in UTC.
    expect(bucketStart('DAY', at('2026-04-01T00:30:00+02:00')).toISOString()).toBe('2026-03-31T00:00:00.000Z');
    expect(bucketStart('QUARTER', at('2026-04-01T00:30:00+02:00')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(bucketStart('MONTH', at('2028-02-29T10:00:00Z')).toISOString()).toBe('2028-02-01T00:00:00.000Z');
    expect(bucketStart('YEAR', at('2026-07-15T10:00:00Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('bucketsBetween', () => {
  it('covers whole buckets from the one holding `from` to the one holding the instant before `to`', () => {
    expect(starts('WEEK', '2026-12-02T10:00:00Z', '2026-12-14T00:00:00Z')).toEqual(['2026-11-30', '2026-12-07']);
    expect(starts('WEEK', '2026-12-02T10:00:00Z', '2026-12-14T00:00:00.001Z')).toEqual(['2026-11-30', '2026-12-07', '2026-12-14']);
    expect(starts('QUARTER', '2025-11-15T00:00:00Z', '2026-07-01T00:00:00Z')).toEqual(['2025-10-01', '2026-01-01', '2026-04-01']);
    expect(starts('MONTH', '2026-01-31T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(['2026-01-01', '2026-02-01']);
    expect(starts('DAY', '2026-02-27T00:00:00Z', '2026-03-02T00:00:00Z')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });

  it('ends each bucket where the next begins (a quarter is three months, not 90 days)', () => {
    const result = bucketsBetween('QUARTER', at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'));
    expect(result.ok && result.buckets.map((b) => b.end.toISOString().slice(0, 10))).toEqual(['2026-04-01', '2026-07-01', '2026-10-01', '2027-01-01']);
  });

  it(`allows ${MAX_BUCKETS} buckets and refuses one more, or an empty or reversed range`, () => {
    expect(bucketsBetween('DAY', at('2026-01-01T00:00:00Z'), at('2027-02-05T00:00:00Z'))).toMatchObject({ ok: true, buckets: { length: 400 } });
    expect(bucketsBetween('DAY', at('2026-01-01T00:00:00Z'), at('2027-02-05T00:00:00.001Z'))).toMatchObject({ ok: false });
    expect(bucketsBetween('YEAR', at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'))).toMatchObject({ ok: false });
    expect(bucketsBetween('YEAR', at('2026-01-02T00:00:00Z'), at('2026-01-01T00:00:00Z'))).toMatchObject({ ok: false });
  });
});

describe('averagePerPurchase', () => {
  it('rounds half up to two decimals and is null without purchases', () => {
    expect(averagePerPurchase(0n, 0)).toBeNull();
    expect(averagePerPurchase(100n, 3)).toBe('33.33');
    expect(averagePerPurchase(200n, 3)).toBe('66.67');
    expect(averagePerPurchase(1n, 8)).toBe('0.13'); // 0.125 rounds up
    expect(averagePerPurchase(9_007_199_254_740_993n, 1)).toBe('9007199254740993.00');
  });
});
