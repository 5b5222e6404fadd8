import { DomainError, InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { assertLadderConsistent, validateTierFields, type TierShape } from './tier';

describe('validateTierFields', () => {
  it('trims the name and keeps only the fields given', () => {
    expect(validateTierFields({ name: ' Gold ', rank: 2, qualifyingThreshold: null })).toEqual({ name: 'Gold', rank: 2 });
  });

  it.each([-1, 1001, 1.5])('rejects rank %s', (rank) => {
    const error = errorOf(() => validateTierFields({ rank }));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('rank');
  });

  it('rejects a blank name and a negative threshold', () => {
    expect((errorOf(() => validateTierFields({ name: '  ' })) as InputError).field).toBe('name');
    expect((errorOf(() => validateTierFields({ qualifyingThreshold: -1 })) as InputError).field).toBe('qualifyingThreshold');
    expect((errorOf(() => validateTierFields({ qualifyingThreshold: 1_000_000_001 })) as InputError).field).toBe('qualifyingThreshold');
    expect(validateTierFields({ qualifyingThreshold: 1_000_000_000 }).qualifyingThreshold).toBe(1_000_000_000);
  });

  it('accepts UPPER_SNAKE_CASE benefit codes with trimmed descriptions', () => {
    expect(validateTierFields({ benefits: [{ code: 'PRIORITY_HOTLINE', description: ' Call us first ' }] }).benefits).toEqual([
      { code: 'PRIORITY_HOTLINE', description: 'Call us first' },
    ]);
  });

  it('points at the offending benefit', () => {
    const benefits = [
      { code: 'FREE_SHIPPING', description: 'Free shipping' },
      { code: 'free-coffee', description: 'Coffee' },
    ];
    expect((errorOf(() => validateTierFields({ benefits })) as InputError).field).toBe('benefits.1.code');
    benefits[1] = { code: 'FREE_COFFEE', description: ' ' };
    expect((errorOf(() => validateTierFields({ benefits })) as InputError).field).toBe('benefits.1.description');
  });

  it('allows at most 20 benefits', () => {
    const benefits = Array.from({ length: 21 }, (_, i) => ({ code: `B${i}X`, description: 'x' }));
    expect(() => validateTierFields({ benefits: benefits.slice(0, 20) })).not.toThrow();
    expect((errorOf(() => validateTierFields({ benefits })) as InputError).field).toBe('benefits');
  });
});

describe('assertLadderConsistent', () => {
  const bronze: TierShape = { name: 'Bronze', rank: 1, qualifyingThreshold: 0 };
  const silver: TierShape = { name: 'Silver', rank: 2, qualifyingThreshold: 1000 };
  const gold: TierShape = { name: 'Gold', rank: 3, qualifyingThreshold: 5000 };

  it('accepts a ladder whatever order the tiers come in, and equal thresholds', () => {
    expect(() => assertLadderConsistent([gold, bronze, silver])).not.toThrow();
    expect(() => assertLadderConsistent([bronze, { ...silver, qualifyingThreshold: 0 }])).not.toThrow();
  });

  it('refuses a higher tier needing fewer points than a lower one', () => {
    const error = errorOf(() => assertLadderConsistent([bronze, silver, { ...gold, qualifyingThreshold: 500 }]));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'TIER_THRESHOLD_ORDER', field: 'qualifyingThreshold' });
  });

  it('refuses two tiers with the same rank', () => {
    const error = errorOf(() => assertLadderConsistent([bronze, silver, { ...gold, rank: 2 }]));
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'TIER_RANK_TAKEN', field: 'rank' });
  });
});
