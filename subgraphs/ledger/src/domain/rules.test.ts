import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { validateRules, type RulesInput } from './rules';

function fieldOf(input: RulesInput): string {
  const error = errorOf(() => validateRules(input));
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).field;
}

const base: RulesInput = { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' };
const march = (day: number) => new Date(Date.UTC(2026, 2, day));
const campaign = { name: 'Spring', startsAt: march(1), endsAt: march(31), factor: '2' };

describe('validateRules', () => {
  it('publishes a minimal rule set with empty lists and no minimum spend or discount', () => {
    expect(validateRules(base)).toEqual({
      currency: 'EUR',
      basePoints: 1,
      perAmount: '1.00',
      rounding: 'FLOOR',
      minimumSpend: null,
      multipliers: [],
      campaigns: [],
      caps: [],
      discountPercent: null,
    });
  });

  it('stores campaign windows as ISO strings, trims the name and defaults the filters to "everything"', () => {
    const rules = validateRules({ ...base, campaigns: [{ ...campaign, name: '  Spring  ', categories: null, channels: ['web'] }] });
    expect(rules.campaigns).toEqual([
      { name: 'Spring', startsAt: '2026-03-01T00:00:00.000Z', endsAt: '2026-03-31T00:00:00.000Z', factor: '2', categories: [], channels: ['web'] },
    ]);
  });

  it('accepts the boundaries: factor 100, discount 100%, zero base points, zero minimum spend, a cap of 0', () => {
    expect(() =>
      validateRules({
        ...base,
        basePoints: 0,
        minimumSpend: '0',
        multipliers: [{ dimension: 'TIER', value: 'gold', factor: '100' }],
        campaigns: [{ ...campaign, factor: '0.00000001' }],
        caps: [{ period: 'DAY', maxPoints: 0 }],
        discountPercent: '100',
      }),
    ).not.toThrow();
  });

  it.each(['eur', 'EU', 'EURO', '', '€'])('rejects currency %j', (currency) => {
    expect(fieldOf({ ...base, currency })).toBe('currency');
  });

  it.each([-1, 10_001, 1.5, Number.NaN])('rejects basePoints %s', (basePoints) => {
    expect(fieldOf({ ...base, basePoints })).toBe('basePoints');
  });

  it.each(['0', '0.00', '-1.00', 'one', ''])('rejects perAmount %j', (perAmount) => {
    expect(fieldOf({ ...base, perAmount })).toBe('perAmount');
  });

  it('rejects a negative or malformed minimum spend', () => {
    expect(fieldOf({ ...base, minimumSpend: '-0.01' })).toBe('minimumSpend');
    expect(fieldOf({ ...base, minimumSpend: 'ten' })).toBe('minimumSpend');
  });

  it.each(['0', '-5', '100.00000001', '101', 'x'])('rejects a multiplier factor of %j, pointing at the multiplier', (factor) => {
    const multipliers = [
      { dimension: 'CATEGORY' as const, value: 'fuel', factor: '2' },
      { dimension: 'SKU' as const, value: 'SKU-1', factor },
    ];
    expect(fieldOf({ ...base, multipliers })).toBe('multipliers.1.factor');
  });

  it('rejects an empty or over-long multiplier value', () => {
    expect(fieldOf({ ...base, multipliers: [{ dimension: 'SKU', value: '', factor: '2' }] })).toBe('multipliers.0.value');
    expect(fieldOf({ ...base, multipliers: [{ dimension: 'SKU', value: 'x'.repeat(65), factor: '2' }] })).toBe('multipliers.0.value');
  });

  it('rejects two multipliers for the same dimension and value, pointing at the second', () => {
    const multipliers = [
      { dimension: 'CATEGORY' as const, value: 'fuel', factor: '2' },
      { dimension: 'SKU' as const, value: 'fuel', factor: '3' },
      { dimension: 'CATEGORY' as const, value: 'fuel', factor: '1.5' },
    ];
    expect(fieldOf({ ...base, multipliers })).toBe('multipliers.2');
    // The same value on a different dimension is not a duplicate.
    expect(() => validateRules({ ...base, multipliers: multipliers.slice(0, 2) })).not.toThrow();
  });

  it('rejects a campaign factor of 0 or above 100', () => {
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, factor: '0' }] })).toBe('campaigns.0.factor');
    expect(fieldOf({ ...base, campaigns: [campaign, { ...campaign, factor: '100.5' }] })).toBe('campaigns.1.factor');
  });

  it('rejects a campaign that ends before it starts or at the same instant', () => {
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, startsAt: march(10), endsAt: march(9) }] })).toBe('campaigns.0.endsAt');
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, startsAt: march(10), endsAt: march(10) }] })).toBe('campaigns.0.endsAt');
  });

  it('rejects a blank or over-long campaign name', () => {
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, name: '   ' }] })).toBe('campaigns.0.name');
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, name: 'n'.repeat(101) }] })).toBe('campaigns.0.name');
  });

  it('rejects two caps for one period, but allows one per period', () => {
    const caps = [
      { period: 'DAY' as const, maxPoints: 100 },
      { period: 'MONTH' as const, maxPoints: 1000 },
      { period: 'DAY' as const, maxPoints: 50 },
    ];
    expect(fieldOf({ ...base, caps })).toBe('caps');
    expect(validateRules({ ...base, caps: [...caps.slice(0, 2), { period: 'YEAR', maxPoints: 5000 }] }).caps).toHaveLength(3);
  });

  it.each([-1, 2.5, 1_000_000_001])('rejects a cap of %s points', (maxPoints) => {
    expect(fieldOf({ ...base, caps: [{ period: 'MONTH', maxPoints }] })).toBe('caps.0.maxPoints');
  });

  it.each(['0', '-10', '100.00000001', '150', 'ten'])('rejects discountPercent %j', (discountPercent) => {
    expect(fieldOf({ ...base, discountPercent })).toBe('discountPercent');
  });
});

describe('bounds an integrator can read in the schema', () => {
  it('holds lists to their documented lengths', () => {
    const multipliers = Array.from({ length: 101 }, (_, i) => ({ dimension: 'SKU' as const, value: `sku-${i}`, factor: '2' }));
    expect(fieldOf({ ...base, multipliers })).toBe('multipliers');
    expect(() => validateRules({ ...base, multipliers: multipliers.slice(0, 100) })).not.toThrow();
    expect(fieldOf({ ...base, campaigns: Array.from({ length: 51 }, () => campaign) })).toBe('campaigns');
    const categories = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, categories }] })).toBe('campaigns.0.categories');
    expect(fieldOf({ ...base, campaigns: [{ ...campaign, channels: ['web', ''] }] })).toBe('campaigns.0.channels.1');
  });

  it('refuses amounts beyond a trillion and a minimum spend finer than the currency', () => {
    expect(fieldOf({ ...base, perAmount: '1000000000000.01' })).toBe('perAmount');
    expect(fieldOf({ ...base, minimumSpend: '1000000000001' })).toBe('minimumSpend');
    expect(fieldOf({ ...base, currency: 'JPY', minimumSpend: '500.5' })).toBe('minimumSpend');
    expect(validateRules({ ...base, currency: 'JPY', minimumSpend: '500' }).minimumSpend).toBe('500');
  });

  it('with the publishing clock, keeps campaign dates within ten years of it', () => {
    const now = march(15);
    expect(() => validateRules({ ...base, campaigns: [campaign] }, now)).not.toThrow();
    const forever = { ...campaign, endsAt: new Date('9999-12-31T00:00:00Z') };
    expect(errorOf(() => validateRules({ ...base, campaigns: [forever] }, now))).toMatchObject({ field: 'campaigns.0.endsAt' });
  });
});

describe('perAmount lower bound', () => {
  it('refuses a unit smaller than one cent, which would turn a basket into billions of points', () => {
    expect(fieldOf({ ...base, perAmount: '0.00000001' })).toBe('perAmount');
    expect(() => validateRules({ ...base, perAmount: '0.01' })).not.toThrow();
  });
});
