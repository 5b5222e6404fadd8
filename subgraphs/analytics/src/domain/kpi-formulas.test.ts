import { describe, expect, it } from 'vitest';
import { activeAt, activity, averageBasket, decimalToScaled, divide, meets, purchaseFrequency, rate } from './kpi-formulas';

const at = (iso: string) => new Date(iso);

describe('divide and rate', () => {
  it('round half up (away from zero) on integers, and are null over 0', () => {
    expect(divide(2n, 3n, 4)).toBe('0.6667');
    expect(divide(1n, 8n, 2)).toBe('0.13');
    expect(divide(-1n, 8n, 2)).toBe('-0.13');
    expect(divide(-1n, 1000n, 2)).toBe('0.00'); // no negative zero
    expect(divide(7n, 2n, 0)).toBe('4');
    expect(divide(5n, 0n, 2)).toBeNull();
    expect(rate(3, 4)).toBe('0.7500');
    expect(rate(0, 0)).toBeNull();
    expect(rate(9_007_199_254_740_993n, 9_007_199_254_740_993n)).toBe('1.0000');
  });
});

describe('purchaseFrequency', () => {
  it('is purchases per active member to 2 decimals, null when nobody is active', () => {
    expect(purchaseFrequency(5, 3)).toBe('1.67');
    expect(purchaseFrequency(0, 3)).toBe('0.00');
    expect(purchaseFrequency(4, 0)).toBeNull();
  });
});

describe('averageBasket', () => {
  it('divides gross spend by purchases in the currency’s decimals', () => {
    expect(averageBasket([{ currency: 'EUR', spend: '100.0000', purchases: 3 }])).toEqual({ amount: '33.33', currency: 'EUR' });
    expect(averageBasket([{ currency: 'JPY', spend: '1001.0000', purchases: 2 }])).toEqual({ amount: '501', currency: 'JPY' });
    expect(averageBasket([{ currency: 'KWD', spend: '1.0000', purchases: 3 }])).toEqual({ amount: '0.333', currency: 'KWD' });
  });

  it('is null without purchases or across currencies', () => {
    expect(averageBasket([])).toBeNull();
    expect(
      averageBasket([
        { currency: 'EUR', spend: '10', purchases: 1 },
        { currency: 'USD', spend: '10', purchases: 1 },
      ]),
    ).toBeNull();
  });
});

describe('decimalToScaled and meets', () => {
  it('parses decimals exactly and refuses more digits than the scale', () => {
    expect(decimalToScaled('12.5', 4)).toBe(125000n);
    expect(decimalToScaled('-0.0001', 4)).toBe(-1n);
    expect(decimalToScaled('3.1400', 2)).toBe(314n);
    expect(() => decimalToScaled('0.00001', 4)).toThrow();
    expect(() => decimalToScaled('1e3', 4)).toThrow();
  });

  it('compares at least / at most, equality meeting both, and null never meets', () => {
    expect(meets('0.2500', 'AT_LEAST', '0.25')).toBe(true);
    expect(meets('0.2500', 'AT_MOST', '0.25')).toBe(true);
    expect(meets('0.2499', 'AT_LEAST', '0.25')).toBe(false);
    expect(meets('12', 'AT_MOST', '11.999999')).toBe(false);
    expect(meets('-3', 'AT_MOST', '0')).toBe(true);
    expect(meets(null, 'AT_LEAST', '0')).toBe(false);
    expect(meets(null, 'AT_MOST', '0')).toBe(false);
  });
});

describe('activity', () => {
  const start = at('2026-11-01T00:00:00Z');
  const end = at('2026-12-01T00:00:00Z');

  it('is active at T with a purchase in [T − window, T): the window’s first instant counts, T itself does not', () => {
    expect(activeAt([at('2026-10-02T00:00:00Z')], null, start, 30)).toBe(true);
    expect(activeAt([at('2026-10-01T23:59:59Z')], null, start, 30)).toBe(false);
    expect(activeAt([start], null, start, 30)).toBe(false);
    expect(activeAt([at('2026-10-31T23:59:59Z')], null, start, 1)).toBe(true);
  });

  it('is never active once CLOSED (at or before T)', () => {
    expect(activeAt([at('2026-10-30T00:00:00Z')], at('2026-11-01T00:00:00Z'), start, 30)).toBe(false);
    expect(activeAt([at('2026-10-30T00:00:00Z')], at('2026-11-01T00:00:01Z'), start, 30)).toBe(true);
  });

  it('counts active at the end, at the start, retained and churned', () => {
    const members = [
      { purchases: [at('2026-10-15T00:00:00Z'), at('2026-11-20T00:00:00Z')], closedAt: null }, // retained
      { purchases: [at('2026-10-15T00:00:00Z')], closedAt: null }, // churned: nothing since
      { purchases: [at('2026-11-25T00:00:00Z')], closedAt: null }, // new: active at the end only
      { purchases: [at('2026-10-20T00:00:00Z'), at('2026-11-20T00:00:00Z')], closedAt: at('2026-11-28T00:00:00Z') }, // closed: churned
      { purchases: [at('2026-08-01T00:00:00Z')], closedAt: null }, // long gone
    ];
    expect(activity(members, start, end, 30)).toEqual({ active: 2, activeAtStart: 3, retained: 1, churned: 2 });
    // A longer window keeps the October buyers active at the end too.
    expect(activity(members, start, end, 60)).toEqual({ active: 3, activeAtStart: 3, retained: 2, churned: 1 });
  });
});
