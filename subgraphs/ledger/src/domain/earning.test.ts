import { DomainError, InputError } from '@loyalty-graph/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { type Rounding } from './decimal';
import { computeEarning, periodStart, validateBasket, type Basket, type BasketLine, type CapPeriod, type EarningContext, type EarningRules, type MultiplierDimension } from './earning';
import { validateRules, type RulesInput } from './rules';

function inputFieldOf(fn: () => unknown): string {
  const error = errorOf(fn);
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).field;
}

const rules = (over: Partial<RulesInput> = {}): EarningRules => validateRules({ currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', ...over });
const line = (lineId: string, amount: string, over: Partial<BasketLine> = {}): BasketLine => ({ lineId, sku: 'SKU-BREAD', category: 'grocery', quantity: 1, amount, ...over });
const basket = (lines: BasketLine[], over: Partial<Basket> = {}): Basket => ({ currency: 'EUR', channel: 'store', partnerId: null, lines, ...over });
const NOON = new Date('2026-03-15T12:00:00.000Z');
const context = (over: Partial<EarningContext> = {}): EarningContext => ({ tierId: null, occurredAt: NOON, earnedInPeriod: { DAY: 0, MONTH: 0, YEAR: 0 }, ...over });
const linePoints = (result: { lines: { points: number }[] }) => result.lines.map((l) => l.points);

describe('computeEarning: what a program manager would check', () => {
  it('earns 25 points on 25.00 at 1 point per 1.00, for reward and status alike', () => {
    const result = computeEarning(rules(), basket([line('1', '25.00')]), context());
    expect(result).toMatchObject({ points: 25, statusPoints: 25, total: '25.00', discount: null, notes: [] });
    expect(result.lines).toEqual([{ lineId: '1', points: 25, explanation: expect.arrayContaining(['base 1 per 1.00 on 25.00', 'rounded floor = 25']) }]);
  });

  it('earns per started unit only under FLOOR: 25.99 gives 25', () => {
    expect(computeEarning(rules(), basket([line('1', '25.99')]), context()).points).toBe(25);
  });

  it('applies the base rate to the line amount regardless of quantity', () => {
    expect(computeEarning(rules(), basket([line('1', '10.00', { quantity: 4 })]), context()).points).toBe(10);
  });

  it('supports rates like 5 points per 2.00', () => {
    expect(computeEarning(rules({ basePoints: 5, perAmount: '2.00' }), basket([line('1', '9.00')]), context()).points).toBe(22); // 22.5 floored
  });

  it('doubles points on fuel only', () => {
    const fuelDouble = rules({ multipliers: [{ dimension: 'CATEGORY', value: 'fuel', factor: '2' }] });
    const result = computeEarning(fuelDouble, basket([line('fuel', '30.00', { category: 'fuel' }), line('bread', '10.00')]), context());
    expect(linePoints(result)).toEqual([60, 10]);
    expect(result.points).toBe(70);
    expect(result.lines[0]!.explanation).toContain('CATEGORY fuel ×2');
  });

  it('stacks SKU and CHANNEL multipliers multiplicatively', () => {
    const stacked = rules({
      multipliers: [
        { dimension: 'SKU', value: 'SKU-COFFEE', factor: '1.5' },
        { dimension: 'CHANNEL', value: 'app', factor: '2' },
      ],
    });
    const coffee = line('1', '10.00', { sku: 'SKU-COFFEE' });
    expect(computeEarning(stacked, basket([coffee], { channel: 'app' }), context()).points).toBe(30); // 10 × 1.5 × 2
    expect(computeEarning(stacked, basket([coffee], { channel: 'store' }), context()).points).toBe(15); // 10 × 1.5
    expect(computeEarning(stacked, basket([line('1', '10.00')], { channel: 'app' }), context()).points).toBe(20); // 10 × 2
    expect(computeEarning(stacked, basket([line('1', '10.00')], { channel: 'store' }), context()).points).toBe(10);
  });

  it('rewards the member tier and the partner only when they match', () => {
    const r = rules({
      multipliers: [
        { dimension: 'TIER', value: 'gold', factor: '1.25' },
        { dimension: 'PARTNER', value: 'partner-air', factor: '3' },
      ],
    });
    const b = basket([line('1', '20.00')]);
    expect(computeEarning(r, b, context({ tierId: 'gold' })).points).toBe(25);
    expect(computeEarning(r, b, context({ tierId: 'silver' })).points).toBe(20);
    expect(computeEarning(r, b, context({ tierId: null })).points).toBe(20);
    expect(computeEarning(r, { ...b, partnerId: 'partner-air' }, context({ tierId: 'gold' })).points).toBe(75);
    expect(computeEarning(r, { ...b, partnerId: 'partner-rail' }, context()).points).toBe(20);
  });

  it('computes exactly, with no float drift: 0.29 at 100 points per 1.00 is 29 under FLOOR, not 28', () => {
    expect(computeEarning(rules({ basePoints: 100 }), basket([line('1', '0.29')]), context()).points).toBe(29);
    const r = rules({ multipliers: [{ dimension: 'CATEGORY', value: 'grocery', factor: '0.7' }, { dimension: 'CHANNEL', value: 'store', factor: '0.1' }] });
    expect(computeEarning(r, basket([line('1', '100.00')]), context()).points).toBe(7);
  });

  describe('campaigns', () => {
    const weekend = rules({
      campaigns: [{ name: 'Fuel weekend', startsAt: new Date('2026-03-14T00:00:00Z'), endsAt: new Date('2026-03-16T00:00:00Z'), factor: '3', categories: ['fuel'] }],
    });
    const fuel = basket([line('fuel', '10.00', { category: 'fuel' }), line('bread', '10.00')]);

    it('applies from its first instant to just before its end', () => {
      expect(linePoints(computeEarning(weekend, fuel, context({ occurredAt: new Date('2026-03-14T00:00:00.000Z') })))).toEqual([30, 10]);
      expect(linePoints(computeEarning(weekend, fuel, context({ occurredAt: new Date('2026-03-15T23:59:59.999Z') })))).toEqual([30, 10]);
    });

    it('does not apply before it starts or from the instant it ends', () => {
      expect(linePoints(computeEarning(weekend, fuel, context({ occurredAt: new Date('2026-03-13T23:59:59.999Z') })))).toEqual([10, 10]);
      expect(linePoints(computeEarning(weekend, fuel, context({ occurredAt: new Date('2026-03-16T00:00:00.000Z') })))).toEqual([10, 10]);
    });

    it('names itself in the explanation of the lines it boosted', () => {
      const result = computeEarning(weekend, fuel, context());
      expect(result.lines[0]!.explanation).toContain('campaign Fuel weekend ×3');
      expect(result.lines[1]!.explanation.some((text) => text.startsWith('campaign'))).toBe(false);
    });

    it('respects a channel filter and stacks with multipliers and other campaigns', () => {
      const r = rules({
        multipliers: [{ dimension: 'CATEGORY', value: 'fuel', factor: '2' }],
        campaigns: [
          { name: 'App month', startsAt: new Date('2026-03-01T00:00:00Z'), endsAt: new Date('2026-04-01T00:00:00Z'), factor: '1.5', channels: ['app'] },
          { name: 'Everything', startsAt: new Date('2026-03-01T00:00:00Z'), endsAt: new Date('2026-04-01T00:00:00Z'), factor: '2' },
        ],
      });
      expect(linePoints(computeEarning(r, { ...fuel, channel: 'app' }, context()))).toEqual([60, 30]); // fuel: 10×2×1.5×2, bread: 10×1.5×2
      expect(linePoints(computeEarning(r, { ...fuel, channel: 'store' }, context()))).toEqual([40, 20]);
    });
  });

  describe('rounding', () => {
    const half = (rounding: Rounding, amount: string) => computeEarning(rules({ perAmount: '2.00', rounding }), basket([line('1', amount)]), context()).points;

    it('NEAREST rounds an exact half up: 1.00 at 1 per 2.00 (0.5) gives 1, 3.00 (1.5) gives 2', () => {
      expect(half('NEAREST', '1.00')).toBe(1);
      expect(half('NEAREST', '3.00')).toBe(2);
      expect(half('NEAREST', '0.98')).toBe(0); // 0.49
    });

    it('FLOOR and CEIL round 0.5 down and up', () => {
      expect(half('FLOOR', '1.00')).toBe(0);
      expect(half('CEIL', '1.00')).toBe(1);
      expect(half('CEIL', '0.02')).toBe(1); // 0.01 of a point still rounds up
      expect(half('CEIL', '0.00')).toBe(0);
    });

    it('rounds each line on its own, not the basket total', () => {
      const result = computeEarning(rules({ perAmount: '2.00' }), basket([line('a', '1.00'), line('b', '1.00')]), context());
      expect(result.points).toBe(0); // two half points, each floored
    });
  });

  describe('minimum spend', () => {
    const min20 = rules({ minimumSpend: '20.00' });

    it('gives 0 points below the minimum spend, with a note saying why', () => {
      const result = computeEarning(min20, basket([line('a', '12.00'), line('b', '7.99')]), context());
      expect(result.points).toBe(0);
      expect(result.statusPoints).toBe(0);
      expect(linePoints(result)).toEqual([0, 0]);
      expect(result.total).toBe('19.99');
      expect(result.notes).toEqual(['basket total 19.99 is below the minimum spend of 20.00']);
    });

    it('earns normally at exactly the minimum spend, counted over the whole basket', () => {
      expect(computeEarning(min20, basket([line('a', '12.00'), line('b', '8.00')]), context()).points).toBe(20);
    });
  });

  describe('caps', () => {
    it('gives only what is left of a DAY cap when some points were already earned today', () => {
      const r = rules({ caps: [{ period: 'DAY', maxPoints: 100 }] });
      const result = computeEarning(r, basket([line('a', '30.00'), line('b', '20.00')]), context({ earnedInPeriod: { DAY: 80, MONTH: 500, YEAR: 500 } }));
      expect(result.points).toBe(20);
      expect(result.statusPoints).toBe(20);
      expect(linePoints(result)).toEqual([12, 8]); // shared 30:20
      expect(result.notes).toEqual(['capped from 50 to 20 points by the program\'s earning caps']);
      expect(result.lines[0]!.explanation).toContain('capped to 12');
    });

    it('does not touch a basket that fits under the cap', () => {
      const result = computeEarning(rules({ caps: [{ period: 'DAY', maxPoints: 100 }] }), basket([line('a', '50.00')]), context({ earnedInPeriod: { DAY: 50, MONTH: 0, YEAR: 0 } }));
      expect(result.points).toBe(50);
      expect(result.notes).toEqual([]);
    });

    it('uses the tightest of several caps', () => {
      const r = rules({ caps: [{ period: 'DAY', maxPoints: 1000 }, { period: 'MONTH', maxPoints: 500 }, { period: 'YEAR', maxPoints: 10_000 }] });
      expect(computeEarning(r, basket([line('a', '50.00')]), context({ earnedInPeriod: { DAY: 0, MONTH: 490, YEAR: 9000 } })).points).toBe(10);
    });

    it('gives 0, never negative, when the member is already over the cap', () => {
      const result = computeEarning(rules({ caps: [{ period: 'YEAR', maxPoints: 100 }] }), basket([line('a', '50.00')]), context({ earnedInPeriod: { DAY: 0, MONTH: 0, YEAR: 120 } }));
      expect(result.points).toBe(0);
      expect(linePoints(result)).toEqual([0]);
    });

    it('shares the remainder by largest remainder, earlier lines first on ties', () => {
      const r = rules({ caps: [{ period: 'DAY', maxPoints: 20 }] });
      expect(linePoints(computeEarning(r, basket([line('a', '10.00'), line('b', '10.00'), line('c', '10.00')]), context()))).toEqual([7, 7, 6]);
      // 7/9/14 of 30 scaled to 10: 2.33 / 3.00 / 4.67 → 2 / 3 / 5
      expect(linePoints(computeEarning(rules({ caps: [{ period: 'DAY', maxPoints: 10 }] }), basket([line('a', '7.00'), line('b', '9.00'), line('c', '14.00')]), context()))).toEqual([2, 3, 5]);
    });
  });

  describe('discount programs', () => {
    it('gives the percentage off the basket and no points', () => {
      const result = computeEarning(rules({ discountPercent: '10' }), basket([line('a', '20.00'), line('b', '5.00')]), context());
      expect(result).toMatchObject({ points: 0, statusPoints: 0, total: '25.00', discount: '2.50', notes: ['10% discount'] });
      expect(linePoints(result)).toEqual([0, 0]);
    });

    it('rounds the discount to the cent, half up: 12.5% of 9.99 is 1.25', () => {
      expect(computeEarning(rules({ discountPercent: '12.5' }), basket([line('a', '9.99')]), context()).discount).toBe('1.25');
    });

    it('ignores multipliers and caps', () => {
      const r = rules({ discountPercent: '100', multipliers: [{ dimension: 'CHANNEL', value: 'store', factor: '5' }], caps: [{ period: 'DAY', maxPoints: 0 }] });
      expect(computeEarning(r, basket([line('a', '40.00')]), context())).toMatchObject({ points: 0, discount: '40.00' });
    });
  });

  it('refuses a basket in another currency with CURRENCY_MISMATCH', () => {
    const error = errorOf(() => computeEarning(rules(), basket([line('1', '25.00')], { currency: 'USD' }), context()));
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('CURRENCY_MISMATCH');
    expect((error as DomainError).field).toBe('basket.currency');
  });
});

describe('validateBasket: malformed baskets are InputErrors pointing at the field', () => {
  const ok = line('1', '10.00');

  it('accepts a well-formed basket, including a free line', () => {
    expect(() => validateBasket(basket([ok, line('2', '0.00'), line('3', '1.5')]))).not.toThrow();
  });

  it('refuses an empty basket and one with more than 500 lines', () => {
    expect(inputFieldOf(() => computeEarning(rules(), basket([]), context()))).toBe('basket.lines');
    const many = Array.from({ length: 501 }, (_, i) => line(`l${i}`, '1.00'));
    expect(inputFieldOf(() => validateBasket(basket(many)))).toBe('basket.lines');
    expect(() => validateBasket(basket(many.slice(0, 500)))).not.toThrow();
  });

  it('refuses a duplicate lineId, pointing at the second line', () => {
    expect(inputFieldOf(() => computeEarning(rules(), basket([ok, line('2', '1.00'), line('1', '2.00')]), context()))).toBe('basket.lines.2.lineId');
  });

  it.each([
    ['a negative amount', { amount: '-1.00' }, 'amount'],
    ['an amount with 3 decimals', { amount: '1.005' }, 'amount'],
    ['a non-numeric amount', { amount: '12,50' }, 'amount'],
    ['quantity 0', { quantity: 0 }, 'quantity'],
    ['a fractional quantity', { quantity: 1.5 }, 'quantity'],
    ['quantity above 100000', { quantity: 100_001 }, 'quantity'],
    ['an empty lineId', { lineId: '' }, 'lineId'],
    ['an empty sku', { sku: '' }, 'sku'],
    ['a category over 64 characters', { category: 'c'.repeat(65) }, 'category'],
  ] as const)('refuses %s', (_label, change, field) => {
    expect(inputFieldOf(() => computeEarning(rules(), basket([ok, { ...line('2', '1.00'), ...change }]), context()))).toBe(`basket.lines.1.${field}`);
  });

  it('takes each currency’s own decimals: JPY has none, KWD three', () => {
    const yen = computeEarning(rules({ currency: 'JPY', perAmount: '100' }), basket([line('1', '1500')], { currency: 'JPY' }), context());
    expect(yen).toMatchObject({ points: 15, total: '1500' });
    expect(inputFieldOf(() => validateBasket(basket([line('1', '100.5')], { currency: 'JPY' })))).toBe('basket.lines.0.amount');
    const dinar = computeEarning(rules({ currency: 'KWD', perAmount: '0.100' }), basket([line('1', '1.234'), line('2', '0.5')], { currency: 'KWD' }), context());
    expect(dinar).toMatchObject({ points: 17, total: '1.734' });
    expect(inputFieldOf(() => validateBasket(basket([line('1', '1.2345')], { currency: 'KWD' })))).toBe('basket.lines.0.amount');
  });

  it('refuses a line above a trillion, saying so', () => {
    const error = errorOf(() => validateBasket(basket([line('1', '1000000000000.01')])));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toContain('at most 1000000000000');
    expect(() => validateBasket(basket([line('1', '1000000000000.00')]))).not.toThrow();
  });

  it('refuses a malformed currency before comparing it with the program', () => {
    expect(inputFieldOf(() => computeEarning(rules(), basket([ok], { currency: 'eur' }), context()))).toBe('basket.currency');
  });
});

describe('periodStart', () => {
  const at = new Date('2026-07-19T23:30:00.000Z');

  it('starts caps at the UTC day, month and year of the purchase', () => {
    expect(periodStart('DAY', at).toISOString()).toBe('2026-07-19T00:00:00.000Z');
    expect(periodStart('MONTH', at).toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(periodStart('YEAR', at).toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('always returns an instant at or before the purchase, in the same period', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }), fc.constantFrom<CapPeriod>('DAY', 'MONTH', 'YEAR'), (date, period) => {
        const start = periodStart(period, date);
        expect(start.getTime()).toBeLessThanOrEqual(date.getTime());
        expect(start.getUTCFullYear()).toBe(date.getUTCFullYear());
        if (period !== 'YEAR') expect(start.getUTCMonth()).toBe(date.getUTCMonth());
        if (period === 'DAY') expect(date.getTime() - start.getTime()).toBeLessThan(86_400_000);
      }),
      { numRuns: 100 },
    );
  });
});

/* ---------------------------------------------------------------------------------------------- */
/* Properties over random valid rule sets and baskets                                              */
/* ---------------------------------------------------------------------------------------------- */

const CATEGORIES = ['fuel', 'grocery', 'drinks'];
const SKUS = ['SKU-1', 'SKU-2', 'SKU-3'];
const CHANNELS = ['store', 'app', 'web'];
const PARTNERS = ['partner-air', 'partner-rail'];
const TIERS = ['silver', 'gold'];
const YEAR_START = Date.UTC(2026, 0, 1);
const YEAR_MS = 365 * 86_400_000;

/** Money as an exact two-decimal string from a count of cents. */
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
/** Back to cents, for amounts written by `money` (always two decimals). */
const centsOf = (amount: string) => Number(amount.replace('.', ''));
const centsArb = (max: number) => fc.integer({ min: 0, max }).map(money);
/**
 * A factor in (0, 2] with up to two decimals, e.g. "1.25". Bounded so that nine stacked factors on
 * a large basket stay under the per-purchase points limit (that limit has its own tests).
 */
const factorArb = fc.integer({ min: 1, max: 200 }).map(money);
const valueFor: Record<MultiplierDimension, string[]> = { TIER: TIERS, CATEGORY: CATEGORIES, SKU: SKUS, CHANNEL: CHANNELS, PARTNER: PARTNERS };

const multiplierArb = fc.constantFrom<MultiplierDimension>('TIER', 'CATEGORY', 'SKU', 'CHANNEL', 'PARTNER').chain((dimension) =>
  fc.record({ dimension: fc.constant(dimension), value: fc.constantFrom(...valueFor[dimension]), factor: factorArb }),
);

const campaignArb = fc
  .record({
    name: fc.constantFrom('Spring', 'Summer', 'Double days'),
    start: fc.integer({ min: 0, max: YEAR_MS }),
    length: fc.integer({ min: 1, max: YEAR_MS / 2 }),
    factor: factorArb,
    categories: fc.subarray(CATEGORIES),
    channels: fc.subarray(CHANNELS),
  })
  .map(({ start, length, ...c }) => ({ ...c, startsAt: new Date(YEAR_START + start), endsAt: new Date(YEAR_START + start + length) }));

const capArb = fc.record({ period: fc.constantFrom<CapPeriod>('DAY', 'MONTH', 'YEAR'), maxPoints: fc.integer({ min: 0, max: 20_000 }) });

const earningRulesArb = fc
  .record({
    basePoints: fc.integer({ min: 0, max: 20 }),
    perAmount: fc.integer({ min: 10, max: 1_000 }).map(money),
    rounding: fc.constantFrom<Rounding>('FLOOR', 'NEAREST', 'CEIL'),
    minimumSpend: fc.option(centsArb(50_000), { nil: null }),
    multipliers: fc.uniqueArray(multiplierArb, { maxLength: 6, selector: (m) => `${m.dimension}:${m.value}` }),
    campaigns: fc.array(campaignArb, { maxLength: 3 }),
    caps: fc.uniqueArray(capArb, { maxLength: 3, selector: (c) => c.period }),
  })
  .map((input) => validateRules({ currency: 'EUR', ...input }));

const basketArb = fc
  .record({
    channel: fc.constantFrom(...CHANNELS),
    partnerId: fc.option(fc.constantFrom(...PARTNERS), { nil: null }),
    lines: fc.array(fc.record({ sku: fc.constantFrom(...SKUS), category: fc.constantFrom(...CATEGORIES), quantity: fc.integer({ min: 1, max: 5 }), amount: centsArb(50_000) }), {
      minLength: 1,
      maxLength: 8,
    }),
  })
  .map(({ lines, ...b }): Basket => ({ currency: 'EUR', ...b, lines: lines.map((l, i) => ({ lineId: `line-${i + 1}`, ...l })) }));

const contextArb = fc.record({
  tierId: fc.option(fc.constantFrom(...TIERS), { nil: null }),
  occurredAt: fc.integer({ min: 0, max: YEAR_MS }).map((ms) => new Date(YEAR_START + ms)),
  earnedInPeriod: fc.record({ DAY: fc.nat({ max: 2_000 }), MONTH: fc.nat({ max: 5_000 }), YEAR: fc.nat({ max: 10_000 }) }),
});

const uncappedRules = (r: EarningRules): EarningRules => ({ ...r, caps: [], minimumSpend: null });
const RUNS = { numRuns: 150 };

describe('computeEarning properties', () => {
  it('is deterministic: the same purchase always earns the same, and the inputs are not modified', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        const snapshot = structuredClone({ r, b, ctx });
        const first = computeEarning(r, b, ctx);
        const second = computeEarning(structuredClone(r), structuredClone(b), structuredClone(ctx));
        expect(second).toEqual(first);
        expect({ r, b, ctx }).toEqual(snapshot);
      }),
      RUNS,
    );
  });

  it('reports a total equal to the sum of the line points, one result line per basket line, in order', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        const result = computeEarning(r, b, ctx);
        expect(result.lines.map((l) => l.lineId)).toEqual(b.lines.map((l) => l.lineId));
        expect(result.points).toBe(result.lines.reduce((sum, l) => sum + l.points, 0));
        expect(result.statusPoints).toBe(result.points);
      }),
      RUNS,
    );
  });

  it('gives every line a non-negative whole number of points', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        for (const l of computeEarning(r, b, ctx).lines) {
          expect(Number.isSafeInteger(l.points)).toBe(true);
          expect(l.points).toBeGreaterThanOrEqual(0);
        }
      }),
      RUNS,
    );
  });

  it('never earns more than any cap leaves, nor more than without caps, and never raises a line', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        const capped = computeEarning(r, b, ctx);
        const uncapped = computeEarning({ ...r, caps: [] }, b, ctx);
        for (const cap of r.caps) expect(capped.points).toBeLessThanOrEqual(Math.max(0, cap.maxPoints - ctx.earnedInPeriod[cap.period]));
        expect(capped.points).toBeLessThanOrEqual(uncapped.points);
        capped.lines.forEach((l, i) => expect(l.points).toBeLessThanOrEqual(uncapped.lines[i]!.points));
        // A cap only takes away what it must.
        const room = Math.min(...r.caps.map((cap) => Math.max(0, cap.maxPoints - ctx.earnedInPeriod[cap.period])));
        expect(capped.points).toBe(Math.min(uncapped.points, room));
      }),
      RUNS,
    );
  });

  it('is monotone: spending more on a line never lowers the uncapped total', () => {
    fc.assert(
      fc.property(earningRulesArb.map(uncappedRules), basketArb, contextArb, fc.nat(), fc.integer({ min: 1, max: 50_000 }), (r, b, ctx, which, extraCents) => {
        const index = which % b.lines.length;
        const target = b.lines[index]!;
        const raised: Basket = { ...b, lines: b.lines.map((l, i) => (i === index ? { ...l, amount: money(centsOf(target.amount) + extraCents) } : l)) };
        const before = computeEarning(r, b, ctx);
        const after = computeEarning(r, raised, ctx);
        expect(after.points).toBeGreaterThanOrEqual(before.points);
        expect(after.lines[index]!.points).toBeGreaterThanOrEqual(before.lines[index]!.points);
      }),
      RUNS,
    );
  });

  it('orders the rounding rules: FLOOR total ≤ NEAREST total ≤ CEIL total for the same basket', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        const [floor, nearest, ceil] = (['FLOOR', 'NEAREST', 'CEIL'] as const).map((rounding) => computeEarning({ ...r, rounding }, b, ctx).points);
        expect(floor).toBeLessThanOrEqual(nearest!);
        expect(nearest).toBeLessThanOrEqual(ceil!);
        // Without caps, per-line rounding moves each line by less than one point.
        const lines = b.lines.length;
        const [f, c] = (['FLOOR', 'CEIL'] as const).map((rounding) => computeEarning({ ...uncappedRules(r), rounding }, b, ctx).points);
        expect(c! - f!).toBeLessThanOrEqual(lines);
      }),
      RUNS,
    );
  });

  it('splits consistently: each line earns exactly what it would earn alone in a one-line basket', () => {
    fc.assert(
      fc.property(earningRulesArb.map(uncappedRules), basketArb, contextArb, (r, b, ctx) => {
        const together = computeEarning(r, b, ctx);
        b.lines.forEach((l, i) => {
          const alone = computeEarning(r, { ...b, lines: [l] }, ctx);
          expect(alone.points).toBe(together.lines[i]!.points);
          expect(alone.lines[0]!.explanation).toEqual(together.lines[i]!.explanation);
        });
      }),
      RUNS,
    );
  });

  it('gives 0 points below the minimum spend and ignores it at or above', () => {
    fc.assert(
      fc.property(earningRulesArb, basketArb, contextArb, (r, b, ctx) => {
        const result = computeEarning(r, b, ctx);
        const withoutMinimum = computeEarning({ ...r, minimumSpend: null }, b, ctx);
        const totalCents = b.lines.reduce((sum, l) => sum + centsOf(l.amount), 0);
        const below = r.minimumSpend !== null && totalCents < centsOf(r.minimumSpend);
        expect(result.points).toBe(below ? 0 : withoutMinimum.points);
      }),
      RUNS,
    );
  });
});

describe('limits that keep points exact', () => {
  it('refuses a line amount no real purchase has, naming the field', () => {
    expect(inputFieldOf(() => validateBasket(basket([line('1', '1000000000000.01')])))).toBe('basket.lines.0.amount');
  });

  it('refuses a basket that would earn more points than a purchase can hold, instead of rounding them', () => {
    const error = errorOf(() => computeEarning(rules({ basePoints: 10_000, perAmount: '0.01' }), basket([line('1', '200000.00')]), context()));
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('POINTS_LIMIT_EXCEEDED');
  });
});
