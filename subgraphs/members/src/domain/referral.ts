import { randomInt } from 'node:crypto';
import { InputError } from '@loyalty-graph/shared';

export type ReferralTrigger = 'ENROLMENT' | 'FIRST_PURCHASE';

export interface ReferralRules {
  /** When a referral earns its bonuses; null: the program gives no referral bonuses. */
  trigger: ReferralTrigger | null;
  referrerBonus: number;
  refereeBonus: number;
}

export const NO_REFERRAL_BONUSES: ReferralRules = { trigger: null, referrerBonus: 0, refereeBonus: 0 };

/** No 0/O, 1/I/L: codes are read aloud on the phone and typed from paper. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;

/** A fresh referral code (31^8 ≈ 8.5·10^11 codes; the unique index settles a rare clash). */
export function newReferralCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** As typed by a person: spaces and dashes ignored, any case. */
export function normalizeReferralCode(raw: string, field: string): string {
  const code = raw.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z0-9]{6,16}$/.test(code)) throw new InputError('A referral code is 6 to 16 letters or digits', field);
  return code;
}

const MAX_BONUS = 1_000_000;

export function validateReferralRules(input: ReferralRules): ReferralRules {
  for (const field of ['referrerBonus', 'refereeBonus'] as const) {
    const value = input[field];
    if (!Number.isInteger(value) || value < 0 || value > MAX_BONUS) throw new InputError(`${field} must be a whole number of points from 0 to ${MAX_BONUS}`, field);
  }
  if (input.trigger && input.referrerBonus === 0 && input.refereeBonus === 0) {
    throw new InputError('Give a bonus to the referrer, the friend or both, or turn referral bonuses off (trigger null)', 'referrerBonus');
  }
  return input;
}

/** Whether the program pays referral bonuses now (a referral qualifies on the trigger it was made under). */
export function paysBonuses(rules: ReferralRules): boolean {
  return rules.trigger !== null && rules.referrerBonus + rules.refereeBonus > 0;
}
