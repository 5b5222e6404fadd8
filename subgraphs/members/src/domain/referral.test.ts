import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import { newReferralCode, normalizeReferralCode, paysBonuses, validateReferralRules } from './referral';

describe('referral codes', () => {
  it('are 8 characters without look-alikes (0/O, 1/I/L), and differ', () => {
    const codes = new Set(Array.from({ length: 500 }, () => newReferralCode()));
    expect(codes.size).toBe(500);
    for (const code of codes) expect(code).toMatch(/^[A-HJKMNP-Z2-9]{8}$/);
  });

  it('are read as a person types them: any case, dashes and spaces ignored', () => {
    expect(normalizeReferralCode(' abcd-efgh ', 'referralCode')).toBe('ABCDEFGH');
    expect(normalizeReferralCode('ab cd ef gh', 'referralCode')).toBe('ABCDEFGH');
  });

  it.each(['', 'ABC', 'ABCD*EFG', 'A'.repeat(17)])('refuse %j, naming the field', (raw) => {
    const error = errorOf(() => normalizeReferralCode(raw, 'referralCode'));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('referralCode');
  });
});

describe('referral rules', () => {
  it('take whole, non-negative bonuses up to a million', () => {
    expect(validateReferralRules({ trigger: 'FIRST_PURCHASE', referrerBonus: 500, refereeBonus: 0 })).toEqual({ trigger: 'FIRST_PURCHASE', referrerBonus: 500, refereeBonus: 0 });
    for (const bad of [-1, 1.5, 1_000_001]) expect((errorOf(() => validateReferralRules({ trigger: 'ENROLMENT', referrerBonus: bad, refereeBonus: 10 })) as InputError).field).toBe('referrerBonus');
    expect((errorOf(() => validateReferralRules({ trigger: 'ENROLMENT', referrerBonus: 10, refereeBonus: -5 })) as InputError).field).toBe('refereeBonus');
  });

  it('refuse a trigger that pays nobody, but allow turning bonuses off', () => {
    expect(errorOf(() => validateReferralRules({ trigger: 'ENROLMENT', referrerBonus: 0, refereeBonus: 0 }))).toBeInstanceOf(InputError);
    expect(validateReferralRules({ trigger: null, referrerBonus: 0, refereeBonus: 0 }).trigger).toBeNull();
  });

  it('pay only with a trigger and a bonus for someone', () => {
    expect(paysBonuses({ trigger: 'ENROLMENT', referrerBonus: 0, refereeBonus: 1 })).toBe(true);
    expect(paysBonuses({ trigger: null, referrerBonus: 100, refereeBonus: 100 })).toBe(false);
    expect(paysBonuses({ trigger: 'FIRST_PURCHASE', referrerBonus: 0, refereeBonus: 0 })).toBe(false);
  });
});
