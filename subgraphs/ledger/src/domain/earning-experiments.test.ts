import { describe, expect, it } from 'vitest';
import { computeEarning, type Basket, type BasketLine, type EarningContext, type EarningRules } from './earning';
import { validateRules, type RulesInput } from './rules';

/** An experiment's earnMultiplier in the earning rules: after the rules' factors, before rounding and caps. */
const rules = (over: Partial<RulesInput> = {}): EarningRules => validateRules({ currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', ...over });
const line = (lineId: string, amount: string, over: Partial<BasketLine> = {}): BasketLine => ({ lineId, sku: 'SKU', category: 'grocery', quantity: 1, amount, ...over });
const basket = (lines: BasketLine[]): Basket => ({ currency: 'EUR', channel: 'store', partnerId: null, lines });
const context = (over: Partial<EarningContext> = {}): EarningContext => ({ tierId: null, occurredAt: new Date('2026-12-05T12:00:00Z'), earnedInPeriod: { DAY: 0, MONTH: 0, YEAR: 0 }, ...over });
const boost = [{ label: 'experiment e1 variant boost', factor: '1.5' }];

describe('computeEarning with an experiment treatment', () => {
  it('multiplies the points and says which experiment and variant applied', () => {
    const result = computeEarning(rules(), basket([line('1', '20.00')]), context({ treatments: boost }));
    expect(result.points).toBe(30);
    expect(result.lines[0]!.explanation).toContain('experiment e1 variant boost ×1.5');
  });

  it('rounds once, as the rule set says, after the rules’ own multipliers', () => {
    // 7.00 × TIER ×2 × 1.5 = 21 exactly; 7.00 × 1.5 = 10.5 → FLOOR 10, NEAREST 11 (not 7 × 1.5 rounded twice).
    expect(computeEarning(rules({ multipliers: [{ dimension: 'TIER', value: 'gold', factor: '2' }] }), basket([line('1', '7.00')]), context({ tierId: 'gold', treatments: boost })).points).toBe(21);
    expect(computeEarning(rules(), basket([line('1', '7.00')]), context({ treatments: boost })).points).toBe(10);
    expect(computeEarning(rules({ rounding: 'NEAREST' }), basket([line('1', '7.00')]), context({ treatments: boost })).points).toBe(11);
  });

  it('is still bounded by the caps', () => {
    const capped = computeEarning(rules({ caps: [{ period: 'DAY', maxPoints: 25 }] }), basket([line('1', '20.00')]), context({ treatments: boost }));
    expect(capped.points).toBe(25);
    expect(capped.notes[0]).toMatch(/capped from 30 to 25/);
  });

  it('changes nothing without a treatment', () => {
    expect(computeEarning(rules(), basket([line('1', '20.00')]), context({ treatments: [] })).points).toBe(20);
  });
});
