import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { sharedProfileChange, validateProfile } from './profile';

const today = new Date('2026-06-15T12:00:00Z');

function fieldOfError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('validateProfile', () => {
  it('changes only the fields an update names', () => {
    expect(validateProfile({ firstName: 'Ann' }, today)).toEqual({ firstName: 'Ann' });
  });

  it('trims names and treats a blank name as cleared', () => {
    expect(validateProfile({ firstName: '  Ann ', lastName: '   ' }, today)).toEqual({ firstName: 'Ann', lastName: null });
  });

  it('clears a field sent as null', () => {
    expect(validateProfile({ birthDate: null, preferredLanguage: null }, today)).toEqual({ birthDate: null, preferredLanguage: null });
  });

  it('rejects a name longer than 100 characters, naming the field', () => {
    expect(fieldOfError(() => validateProfile({ lastName: 'x'.repeat(101) }, today))).toBe('profile.lastName');
  });

  it('accepts a real birth date', () => {
    expect(validateProfile({ birthDate: '1990-04-01' }, today)).toEqual({ birthDate: '1990-04-01' });
  });

  it.each(['2001-02-30', '1990-13-01', '1990-4-1', '01/04/1990', 'yesterday'])('rejects the birth date %j', (birthDate) => {
    expect(fieldOfError(() => validateProfile({ birthDate }, today))).toBe('profile.birthDate');
  });

  it('accepts 29 February only in a leap year', () => {
    expect(validateProfile({ birthDate: '2000-02-29' }, today).birthDate).toBe('2000-02-29');
    expect(() => validateProfile({ birthDate: '2001-02-29' }, today)).toThrow(InputError);
  });

  it('rejects a birth date in the future but accepts one born today', () => {
    expect(() => validateProfile({ birthDate: '2026-06-16' }, today)).toThrow(/future/);
    expect(validateProfile({ birthDate: '2026-06-15' }, today).birthDate).toBe('2026-06-15');
  });

  it('rejects a birth date before 1900', () => {
    expect(() => validateProfile({ birthDate: '1899-12-31' }, today)).toThrow(/before 1900/);
  });

  it('accepts language tags such as pl and en-GB and rejects anything else', () => {
    expect(validateProfile({ preferredLanguage: 'en-GB' }, today)).toEqual({ preferredLanguage: 'en-GB' });
    expect(validateProfile({ preferredLanguage: ' pl ' }, today)).toEqual({ preferredLanguage: 'pl' });
    expect(fieldOfError(() => validateProfile({ preferredLanguage: 'English' }, today))).toBe('profile.preferredLanguage');
  });

  it('prefixes field names so nested inputs point at the right field', () => {
    expect(fieldOfError(() => validateProfile({ birthDate: 'soon' }, today, 'input.profile'))).toBe('input.profile.birthDate');
  });
});

describe('sharedProfileChange', () => {
  it('announces the birth date and language when either changed, with both current values', () => {
    const before = { birthDate: '1990-04-01', preferredLanguage: 'pl' };
    expect(sharedProfileChange(before, { birthDate: '1990-04-01', preferredLanguage: 'en-GB' })).toEqual({ birthDate: '1990-04-01', preferredLanguage: 'en-GB' });
    expect(sharedProfileChange(before, { birthDate: null, preferredLanguage: 'pl' })).toEqual({ birthDate: null, preferredLanguage: 'pl' });
  });

  it('announces nothing when neither changed (names only, or the same values again)', () => {
    const before = { birthDate: '1990-04-01', preferredLanguage: 'pl' };
    expect(sharedProfileChange(before, { ...before })).toBeNull();
  });

  it('at enrolment (nothing before) announces only when the member gave either', () => {
    expect(sharedProfileChange(null, { birthDate: null, preferredLanguage: null })).toBeNull();
    expect(sharedProfileChange(null, { birthDate: null, preferredLanguage: 'de' })).toEqual({ birthDate: null, preferredLanguage: 'de' });
  });
});
