import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { checkRewardDetails, normaliseLocale, translationFor, type RewardDetailsInput } from './rewards';

const PARTNER = '00000000-0000-4000-8000-0000000000aa';
const NOW = new Date('2026-06-15T12:00:00.000Z');
const details = (over: Partial<RewardDetailsInput> = {}): RewardDetailsInput => ({
  defaultLocale: 'pl',
  translations: [
    { locale: 'pl', name: 'Kubek', description: 'Kubek termiczny' },
    { locale: 'en-gb', name: 'Mug', description: null },
  ],
  points: 500,
  ...over,
});

function fieldOf(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field ?? null;
    throw error;
  }
  throw new Error('no InputError');
}

describe('checkRewardDetails', () => {
  it('normalises locales and cash to the currency’s decimals', () => {
    const checked = checkRewardDetails('PHYSICAL', details({ cash: { amount: '9.9', currency: 'eur' } }), NOW);
    expect(checked.translations.map((t) => t.locale)).toEqual(['pl', 'en-GB']);
    expect(checked).toMatchObject({ cashAmount: '9.90', cashCurrency: 'EUR', experience: null, partnerId: null });
  });

  it('refuses malformed details naming the field', () => {
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ defaultLocale: 'da' }), NOW))).toBe('details.defaultLocale');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ points: 0 }), NOW))).toBe('details.points');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ points: 100_000_001 }), NOW))).toBe('details.points');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ cash: { amount: '1.005', currency: 'EUR' } }), NOW))).toBe('details.cash.amount');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ translations: [{ locale: 'pl', name: 'x'.repeat(201) }] }), NOW))).toBe('details.translations.0.name');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ translations: [{ locale: 'pl', name: 'a' }, { locale: 'PL', name: 'b' }] }), NOW))).toBe('details.translations.1.locale');
    const window = { availableFrom: new Date('2026-07-01T00:00:00Z'), availableUntil: new Date('2026-07-01T00:00:00Z') };
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details(window), NOW))).toBe('details.availableUntil');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ tierIds: ['gold'] }), NOW))).toBe('details.tierIds.0');
  });

  it('asks an EXPERIENCE for its details and a PARTNER_SERVICE for its partner, and refuses them elsewhere', () => {
    const experience = { startsAt: new Date('2026-09-01T18:00:00Z'), place: 'Aarhus', seats: 40 };
    expect(checkRewardDetails('EXPERIENCE', details({ experience }), NOW).experience).toEqual({ startsAt: '2026-09-01T18:00:00.000Z', place: 'Aarhus', seats: 40 });
    expect(fieldOf(() => checkRewardDetails('EXPERIENCE', details(), NOW))).toBe('details.experience');
    expect(fieldOf(() => checkRewardDetails('PHYSICAL', details({ experience }), NOW))).toBe('details.experience');
    expect(checkRewardDetails('PARTNER_SERVICE', details({ partnerId: PARTNER }), NOW).partnerId).toBe(PARTNER);
    expect(fieldOf(() => checkRewardDetails('PARTNER_SERVICE', details(), NOW))).toBe('details.partnerId');
    expect(fieldOf(() => checkRewardDetails('CHARITY', details({ partnerId: PARTNER }), NOW))).toBe('details.partnerId');
  });
});

describe('translationFor', () => {
  const reward = { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Kubek', description: null }, { locale: 'en-GB', name: 'Mug', description: null }] };

  it('finds the exact locale, then its language, then falls back to the default', () => {
    expect(translationFor(reward, 'en-GB').name).toBe('Mug');
    expect(translationFor(reward, 'pl-PL').name).toBe('Kubek');
    expect(translationFor(reward, 'da').name).toBe('Kubek');
    expect(translationFor(reward, null).name).toBe('Kubek');
  });

  it('normalises a locale’s case', () => {
    expect(normaliseLocale('EN-gb', 'locale')).toBe('en-GB');
  });
});
