import { InputError } from '@loyalty-graph/shared';

/**
 * Segment rules on profile fields (members' MemberProfileChanged): the birth date and the preferred
 * language. Kept apart from the other rules because both are personal data used for targeting,
 * which GDPR calls profiling: they match only members who granted PROFILING on some channel, so
 * without that consent a member is in no segment that has a profile rule, whatever their profile.
 */

/** Inclusive ISO dates (YYYY-MM-DD); an absent bound does not restrict. */
export interface DateRange {
  from: string | null;
  to: string | null;
}

export interface ProfileRules {
  bornBetween?: DateRange;
  /** Primary language subtags, lower case (en, pl), sorted. */
  preferredLanguages?: string[];
}

/** What the profile rules read of a member. */
export interface ProfileFacts {
  /** ISO date (YYYY-MM-DD); null when unknown. */
  birthDate: string | null;
  /** A BCP 47 tag as the member gave it (en-GB); null when unknown. */
  preferredLanguage: string | null;
  /** Granted consents as CHANNEL:PURPOSE. */
  consents: string[];
}

export interface ProfileRulesInput {
  bornBetween?: { from?: string | null; to?: string | null } | null;
  preferredLanguages?: readonly string[] | null;
}

/** Most languages one rule lists. */
export const MAX_LANGUAGES = 50;
/** The longest tag taken (as members take them). */
export const MAX_TAG_LENGTH = 35;
/** A BCP 47 tag's shape: a primary language subtag of 2–3 letters, then subtags of 1–8 letters or digits. */
const TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** The granted consents that allow profiling: PROFILING on any channel. */
export const PROFILING_CONSENTS = ['EMAIL:PROFILING', 'SMS:PROFILING', 'PUSH:PROFILING', 'POST:PROFILING'] as const;

/** Whether the rules use a profile field (and so require PROFILING). */
export function hasProfileRule(rules: ProfileRules): boolean {
  return rules.bornBetween !== undefined || rules.preferredLanguages !== undefined;
}

/** The primary language subtag, lower case: what a language rule compares (en-GB → en). */
export function primaryLanguage(tag: string): string {
  return tag.split('-')[0]!.toLowerCase();
}

/** Checks and normalises the profile rules present in `input` (BAD_USER_INPUT naming the field). */
export function checkProfileRules(input: ProfileRulesInput, field: string): ProfileRules {
  const rules: ProfileRules = {};
  if (input.bornBetween != null) {
    const from = isoDate(input.bornBetween.from, `${field}.bornBetween.from`);
    const to = isoDate(input.bornBetween.to, `${field}.bornBetween.to`);
    if (from === null && to === null) throw new InputError('bornBetween needs from, to or both', `${field}.bornBetween`);
    // ISO dates order as text.
    if (from !== null && to !== null && from > to) throw new InputError('bornBetween.from must not be after to', `${field}.bornBetween.to`);
    rules.bornBetween = { from, to };
  }
  if (input.preferredLanguages != null) {
    const name = `${field}.preferredLanguages`;
    const tags = input.preferredLanguages;
    if (tags.length === 0 || tags.length > MAX_LANGUAGES) throw new InputError(`preferredLanguages takes 1 to ${MAX_LANGUAGES} language tags`, name);
    for (const tag of tags) {
      if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) throw new InputError(`preferredLanguages: a language tag is 1 to ${MAX_TAG_LENGTH} characters`, name);
      if (!TAG.test(tag)) throw new InputError(`preferredLanguages: ${tag} is not a language tag such as en or en-GB`, name);
    }
    rules.preferredLanguages = [...new Set(tags.map(primaryLanguage))].sort();
  }
  return rules;
}

function isoDate(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  const match = ISO_DATE.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  // The round trip refuses impossible dates such as 2001-02-30.
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) throw new InputError(`${field} must be a date like 1990-04-01`, field);
  return value;
}

/** Whether one member matches the profile rules; true when there are none. */
export function matchesProfile(rules: ProfileRules, member: ProfileFacts): boolean {
  if (!hasProfileRule(rules)) return true;
  if (!member.consents.some((c) => (PROFILING_CONSENTS as readonly string[]).includes(c))) return false;
  if (rules.bornBetween) {
    const born = member.birthDate;
    if (born === null) return false;
    if (rules.bornBetween.from !== null && born < rules.bornBetween.from) return false;
    if (rules.bornBetween.to !== null && born > rules.bornBetween.to) return false;
  }
  if (rules.preferredLanguages) {
    if (member.preferredLanguage === null || !rules.preferredLanguages.includes(primaryLanguage(member.preferredLanguage))) return false;
  }
  return true;
}

/** The same rules as SQL conditions over `member_state s`; `p` adds a parameter and returns its placeholder. */
export function profileConditions(rules: ProfileRules, p: (value: unknown) => string): string[] {
  if (!hasProfileRule(rules)) return [];
  const parts = [`s.consents && ${p(PROFILING_CONSENTS)}::text[]`];
  if (rules.bornBetween) {
    parts.push('s.birth_date IS NOT NULL');
    if (rules.bornBetween.from !== null) parts.push(`s.birth_date >= ${p(rules.bornBetween.from)}::date`);
    if (rules.bornBetween.to !== null) parts.push(`s.birth_date <= ${p(rules.bornBetween.to)}::date`);
  }
  if (rules.preferredLanguages) parts.push(`lower(split_part(s.preferred_language, '-', 1)) = ANY(${p(rules.preferredLanguages)}::text[])`);
  return parts;
}
