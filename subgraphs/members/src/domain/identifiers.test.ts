import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { MAX_IDENTIFIERS, normalizeIdentifier, validateIdentifiers } from './identifiers';

function inputErrorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('normalizeIdentifier', () => {
  it('finds the same member for an email typed in capitals or with spaces around it', () => {
    expect(normalizeIdentifier('EMAIL', ' Ann@Example.COM ')).toBe('ann@example.com');
  });

  it.each(['ann', 'ann@example', 'ann@@example.com', 'ann smith@example.com', 'ann@example..com'])('rejects the malformed email %j', (raw) => {
    expect(inputErrorOf(() => normalizeIdentifier('EMAIL', raw)).field).toBe('value');
  });

  it('rejects an email longer than 254 characters', () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(190)}.com`;
    expect(email.length).toBeGreaterThan(254);
    expect(() => normalizeIdentifier('EMAIL', email)).toThrow(InputError);
  });

  it('names the field the caller asks for, so a form can point at it', () => {
    expect(inputErrorOf(() => normalizeIdentifier('EMAIL', 'nope', 'identifiers.0.value')).field).toBe('identifiers.0.value');
  });

  it('normalises phone numbers to E.164 whatever the separators', () => {
    expect(normalizeIdentifier('PHONE', '0048 501 234 567')).toBe('+48501234567');
    expect(normalizeIdentifier('PHONE', '+48 (501) 234-567')).toBe('+48501234567');
    expect(normalizeIdentifier('PHONE', '+1.202.555.0143')).toBe('+12025550143');
  });

  it.each(['501 234 567', '+0501234567', '+48 501 abc 567', '+1234567890123456'])('rejects the phone number %j', (raw) => {
    expect(inputErrorOf(() => normalizeIdentifier('PHONE', raw)).field).toBe('value');
  });

  it('normalises card numbers to upper case without spaces', () => {
    expect(normalizeIdentifier('CARD', ' ab12 cd34 ')).toBe('AB12CD34');
  });

  it.each(['AB12', 'AB-123456', 'A'.repeat(33)])('rejects the card number %j', (raw) => {
    expect(() => normalizeIdentifier('CARD', raw)).toThrow(InputError);
  });

  it('refuses absurdly long input before looking at it', () => {
    expect(() => normalizeIdentifier('CARD', ' '.repeat(300) + 'AB123456' + ' '.repeat(30))).toThrow(/too long/);
  });
});

describe('validateIdentifiers', () => {
  it('normalises each identifier of an enrolment', () => {
    expect(validateIdentifiers([{ type: 'EMAIL', value: ' Ann@Example.com' }, { type: 'CARD', value: 'nfc 0001 23' }])).toEqual([
      { type: 'EMAIL', value: 'ann@example.com' },
      { type: 'CARD', value: 'NFC000123' },
    ]);
  });

  it('wants one identifier at least and MAX_IDENTIFIERS at most', () => {
    expect(inputErrorOf(() => validateIdentifiers([])).field).toBe('identifiers');
    const many = Array.from({ length: MAX_IDENTIFIERS + 1 }, (_, i) => ({ type: 'EMAIL' as const, value: `ann${i}@example.com` }));
    expect(inputErrorOf(() => validateIdentifiers(many)).field).toBe('identifiers');
  });

  it('points at the second of two identifiers that are the same once normalised', () => {
    expect(inputErrorOf(() => validateIdentifiers([{ type: 'EMAIL', value: 'ann@example.com' }, { type: 'EMAIL', value: 'ANN@example.com' }])).field).toBe('identifiers.1.value');
  });

  it('names the malformed one by its position', () => {
    expect(inputErrorOf(() => validateIdentifiers([{ type: 'EMAIL', value: 'ann@example.com' }, { type: 'PHONE', value: '12' }])).field).toBe('identifiers.1.value');
  });
});
