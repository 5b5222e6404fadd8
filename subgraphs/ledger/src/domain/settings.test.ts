import { InputError } from '@loyalty-graph/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { DEFAULT_SETTINGS, mergeSettings, postsAt, type LedgerSettings } from './settings';

function fieldOf(fn: () => unknown): string {
  const error = errorOf(fn);
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).field;
}

const rolling: LedgerSettings = { ...DEFAULT_SETTINGS, expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 24 };

describe('DEFAULT_SETTINGS', () => {
  it('gives a new program a 14-day return window, no expiry and one-hour holds', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({ returnWindowDays: 14, clawbackPolicy: 'NEGATIVE_BALANCE', expiryPolicy: 'NEVER', expiryMonths: null, holdTtlMinutes: 60 });
  });

  it('is itself a valid configuration', () => {
    expect(mergeSettings(DEFAULT_SETTINGS, {})).toEqual(DEFAULT_SETTINGS);
  });
});

describe('mergeSettings', () => {
  it('changes only the fields given and leaves the current settings untouched', () => {
    const before = structuredClone(DEFAULT_SETTINGS);
    const next = mergeSettings(DEFAULT_SETTINGS, { returnWindowDays: 30, clawbackPolicy: 'WRITE_OFF' });
    expect(next).toEqual({ ...DEFAULT_SETTINGS, returnWindowDays: 30, clawbackPolicy: 'WRITE_OFF' });
    expect(DEFAULT_SETTINGS).toEqual(before);
  });

  it('treats null as "keep the current value" for required settings', () => {
    const current = { ...DEFAULT_SETTINGS, returnWindowDays: 7, holdTtlMinutes: 15 };
    expect(mergeSettings(current, { returnWindowDays: null, holdTtlMinutes: null, clawbackPolicy: null, expiryPolicy: null })).toEqual(current);
  });

  it('switches to ROLLING_MONTHS when expiryMonths comes with it', () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 12 })).toMatchObject({ expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 12 });
  });

  it('refuses ROLLING_MONTHS without expiryMonths', () => {
    expect(fieldOf(() => mergeSettings(DEFAULT_SETTINGS, { expiryPolicy: 'ROLLING_MONTHS' }))).toBe('expiryMonths');
    expect(fieldOf(() => mergeSettings(rolling, { expiryMonths: null }))).toBe('expiryMonths');
  });

  it.each([0, 121, 1.5, -3])('refuses ROLLING_MONTHS with expiryMonths %s', (expiryMonths) => {
    expect(fieldOf(() => mergeSettings(DEFAULT_SETTINGS, { expiryPolicy: 'ROLLING_MONTHS', expiryMonths }))).toBe('expiryMonths');
  });

  it('accepts 1 and 120 expiry months', () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 1 }).expiryMonths).toBe(1);
    expect(mergeSettings(DEFAULT_SETTINGS, { expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 120 }).expiryMonths).toBe(120);
  });

  it('keeps the months when only the months change on a rolling policy', () => {
    expect(mergeSettings(rolling, { expiryMonths: 6 })).toMatchObject({ expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 6 });
    expect(mergeSettings(rolling, { returnWindowDays: 0 })).toMatchObject({ expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 24 });
  });

  it.each(['NEVER', 'END_OF_NEXT_YEAR'] as const)('clears expiryMonths when the policy becomes %s', (expiryPolicy) => {
    expect(mergeSettings(rolling, { expiryPolicy }).expiryMonths).toBeNull();
    expect(mergeSettings(DEFAULT_SETTINGS, { expiryPolicy, expiryMonths: 12 }).expiryMonths).toBeNull();
  });

  it.each([-1, 366, 2.5])('refuses returnWindowDays %s', (returnWindowDays) => {
    expect(fieldOf(() => mergeSettings(DEFAULT_SETTINGS, { returnWindowDays }))).toBe('returnWindowDays');
  });

  it('accepts a return window of 0 (points post at once) up to 365 days', () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { returnWindowDays: 0 }).returnWindowDays).toBe(0);
    expect(mergeSettings(DEFAULT_SETTINGS, { returnWindowDays: 365 }).returnWindowDays).toBe(365);
  });

  it('accepts purchases up to 90 days old by default, configurable from 1 day to 10 years', () => {
    expect(DEFAULT_SETTINGS.purchaseMaxAgeDays).toBe(90);
    expect(mergeSettings(DEFAULT_SETTINGS, { purchaseMaxAgeDays: 1 }).purchaseMaxAgeDays).toBe(1);
    expect(mergeSettings(DEFAULT_SETTINGS, { purchaseMaxAgeDays: 3_650 }).purchaseMaxAgeDays).toBe(3_650);
  });

  it.each([0, 3_651, 1.5])('refuses purchaseMaxAgeDays %s', (purchaseMaxAgeDays) => {
    expect(fieldOf(() => mergeSettings(DEFAULT_SETTINGS, { purchaseMaxAgeDays }))).toBe('purchaseMaxAgeDays');
  });

  it.each([0, 43_201, 0.5])('refuses holdTtlMinutes %s', (holdTtlMinutes) => {
    expect(fieldOf(() => mergeSettings(DEFAULT_SETTINGS, { holdTtlMinutes }))).toBe('holdTtlMinutes');
  });

  it('accepts holds of 1 minute up to 30 days', () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { holdTtlMinutes: 1 }).holdTtlMinutes).toBe(1);
    expect(mergeSettings(DEFAULT_SETTINGS, { holdTtlMinutes: 43_200 }).holdTtlMinutes).toBe(43_200);
  });
});

describe('postsAt', () => {
  const at = new Date('2026-03-28T22:30:00.000Z');

  it('posts pending points exactly returnWindowDays × 24 hours after the purchase, in UTC', () => {
    expect(postsAt(at, { ...DEFAULT_SETTINGS, returnWindowDays: 14 }).toISOString()).toBe('2026-04-11T22:30:00.000Z');
    expect(postsAt(at, { ...DEFAULT_SETTINGS, returnWindowDays: 365 }).toISOString()).toBe('2027-03-28T22:30:00.000Z');
  });

  it('posts at the purchase instant when the return window is 0, without mutating the input', () => {
    const result = postsAt(at, { ...DEFAULT_SETTINGS, returnWindowDays: 0 });
    expect(result.getTime()).toBe(at.getTime());
    expect(result).not.toBe(at);
  });

  it('never posts before the purchase and grows with the window', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 364 }), (occurredAt, days) => {
        const shorter = postsAt(occurredAt, { ...DEFAULT_SETTINGS, returnWindowDays: days });
        const longer = postsAt(occurredAt, { ...DEFAULT_SETTINGS, returnWindowDays: days + 1 });
        expect(shorter.getTime() - occurredAt.getTime()).toBe(days * 86_400_000);
        expect(longer.getTime() - shorter.getTime()).toBe(86_400_000);
      }),
      { numRuns: 100 },
    );
  });
});
