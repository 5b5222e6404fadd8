import { InputError } from '@loyalty-graph/shared';
import { optionalText } from './text';

export interface ProfileInput {
  firstName?: string | null;
  lastName?: string | null;
  birthDate?: string | null;
  preferredLanguage?: string | null;
}

export interface Profile {
  firstName: string | null;
  lastName: string | null;
  birthDate: string | null;
  preferredLanguage: string | null;
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/**
 * Validates the fields present in the input; absent fields stay absent so an update changes
 * only what it names.
 */
export function validateProfile(input: ProfileInput, today: Date, prefix = 'profile'): Partial<Profile> {
  const out: Partial<Profile> = {};
  if (input.firstName !== undefined) out.firstName = optionalText(input.firstName, `${prefix}.firstName`, 100);
  if (input.lastName !== undefined) out.lastName = optionalText(input.lastName, `${prefix}.lastName`, 100);
  if (input.birthDate !== undefined) out.birthDate = validateBirthDate(input.birthDate, today, `${prefix}.birthDate`);
  if (input.preferredLanguage !== undefined) {
    const language = optionalText(input.preferredLanguage, `${prefix}.preferredLanguage`, 35);
    if (language !== null && !LANGUAGE.test(language)) {
      throw new InputError('preferredLanguage must be a language tag such as pl or en-GB', `${prefix}.preferredLanguage`);
    }
    out.preferredLanguage = language;
  }
  return out;
}

function validateBirthDate(value: string | null, today: Date, field: string): string | null {
  if (value === null || value.trim() === '') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  // Round-trip check rejects impossible dates such as 2001-02-30.
  if (!date || date.toISOString().slice(0, 10) !== value.trim()) throw new InputError('birthDate must be a date like 1990-04-01', field);
  if (date > today) throw new InputError('birthDate cannot be in the future', field);
  if (date.getUTCFullYear() < 1900) throw new InputError('birthDate is before 1900', field);
  return value.trim();
}

/** The profile fields other subgraphs are told (MemberProfileChanged): what segments may use, never names. */
export type SharedProfile = Pick<Profile, 'birthDate' | 'preferredLanguage'>;

/**
 * What to announce after a profile change: the shared fields' new values when either changed, else
 * null (a change of names only, or the same values again, tells others nothing). At enrolment
 * `before` is null: announced when the member gave either field.
 */
export function sharedProfileChange(before: SharedProfile | null, after: SharedProfile): SharedProfile | null {
  const was = before ?? { birthDate: null, preferredLanguage: null };
  if (was.birthDate === after.birthDate && was.preferredLanguage === after.preferredLanguage) return null;
  return { birthDate: after.birthDate, preferredLanguage: after.preferredLanguage };
}
