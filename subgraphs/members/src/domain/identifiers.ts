import { InputError } from '@loyalty-graph/shared';
import type { IdentifierType } from '../entities/member-identifier';

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+[1-9]\d{6,14}$/;
const CARD = /^[A-Z0-9]{6,32}$/;

/**
 * Normalises an identifier so the same person is found however it is typed: emails lower-case,
 * phones to E.164 without separators, card numbers upper-case without spaces.
 */
export function normalizeIdentifier(type: IdentifierType, raw: string, field = 'value'): string {
  if (raw.length > 320) throw new InputError(`${field} is too long`, field);
  switch (type) {
    case 'EMAIL': {
      const email = raw.trim().toLowerCase();
      if (email.length > 254 || !EMAIL.test(email)) throw new InputError(`${raw.trim()} is not a valid email address`, field);
      return email;
    }
    case 'PHONE': {
      const phone = raw.replace(/[\s\-().]/g, '').replace(/^00/, '+');
      if (!PHONE.test(phone)) {
        throw new InputError(`${raw.trim()} is not a valid phone number: use international format, e.g. +48501234567`, field);
      }
      return phone;
    }
    case 'CARD': {
      const card = raw.replace(/\s/g, '').toUpperCase();
      if (!CARD.test(card)) throw new InputError('A card number has 6 to 32 letters or digits', field);
      return card;
    }
  }
}

export interface IdentifierInput {
  type: IdentifierType;
  value: string;
}

/** Identifiers looked up in one call (memberIdsByIdentifiers): a partner's bulk purchase call at most. */
export const MAX_IDENTIFIER_LOOKUPS = 1000;

/** A member has at most this many identifiers. */
export const MAX_IDENTIFIERS = 10;

/** An enrolment's identifiers: one at least, MAX_IDENTIFIERS at most, each normalised, none given twice. */
export function validateIdentifiers(identifiers: IdentifierInput[]): IdentifierInput[] {
  if (identifiers.length === 0) throw new InputError('Give at least one identifier (card, email or phone)', 'identifiers');
  if (identifiers.length > MAX_IDENTIFIERS) throw new InputError(`At most ${MAX_IDENTIFIERS} identifiers`, 'identifiers');
  const normalized = identifiers.map((identifier, i) => ({
    type: identifier.type,
    value: normalizeIdentifier(identifier.type, identifier.value, `identifiers.${i}.value`),
  }));
  const keys = normalized.map((i) => `${i.type}:${i.value}`);
  const duplicate = keys.findIndex((key, i) => keys.indexOf(key) !== i);
  if (duplicate >= 0) throw new InputError('The same identifier is given twice', `identifiers.${duplicate}.value`);
  return normalized;
}
