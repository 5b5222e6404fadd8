import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@loyalty-graph/shared';
import type { IdentifierType } from '../entities/member-identifier';

/**
 * Identifiers a member adds themself are confirmed with a code sent to the identifier (an email,
 * a text message) by the program's messaging system, which hears of it through the
 * IdentifierVerificationRequested event. Until then they find nobody at the till.
 *
 * - A code is 6 digits, valid for CODE_TTL_MS, with MAX_ATTEMPTS wrong tries; only its hash is
 *   stored (salted with the request's id), so the table never holds a working code.
 * - A member asks for a code at most MAX_REQUESTS times per identifier per REQUEST_WINDOW_MS: each
 *   request is a message to someone, and a new code would otherwise reset the tries.
 * - Cards cannot receive a code: the program's staff link them (they see the card), never the
 *   member; card numbers are often sequential and easy to guess.
 *
 * The code travels in an event: events are internal (the feed needs the internal token, and NATS
 * is a private broker), the code is useless after CODE_TTL_MS, and it can only ever attach that
 * identifier to the member who asked, never sign anyone in. Who reads the outbox table could read
 * live codes; the outbox's rows are as private as the members table itself.
 */
export const CODE_TTL_MS = 15 * 60_000;
export const MAX_ATTEMPTS = 5;
export const MAX_REQUESTS = 5;
export const REQUEST_WINDOW_MS = 24 * 60 * 60_000;

/** Types a member may add themself: those a code can be sent to. */
export function assertSelfServiceType(type: IdentifierType, field: string): void {
  if (type === 'CARD') throw new DomainError('CARD_NEEDS_STAFF', 'A card is linked by the program’s staff, who see the card; add an email or a phone', field);
}

export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export function hashCode(requestId: string, code: string): string {
  return createHash('sha256').update(`${requestId}:${code}`).digest('hex');
}

/** The state of a request for a code, as stored. */
export interface VerificationState {
  id: string;
  codeHash: string;
  expiresAt: Date;
  attempts: number;
  requests: number;
  windowStartedAt: Date;
}

export type VerificationOutcome = 'VERIFIED' | 'WRONG_CODE' | 'EXPIRED' | 'TOO_MANY_ATTEMPTS';

/** What a code typed by the member means for the request. Expiry and used-up tries come first: a right code then counts for nothing. */
export function checkCode(state: VerificationState, code: string, now: Date): VerificationOutcome {
  if (state.attempts >= MAX_ATTEMPTS) return 'TOO_MANY_ATTEMPTS';
  if (state.expiresAt <= now) return 'EXPIRED';
  const given = Buffer.from(hashCode(state.id, code.trim()), 'hex');
  const expected = Buffer.from(state.codeHash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'VERIFIED' : 'WRONG_CODE';
}

/** The request counter after one more request, or TOO_MANY_REQUESTS. */
export function nextRequest(previous: Pick<VerificationState, 'requests' | 'windowStartedAt'> | null, now: Date): { requests: number; windowStartedAt: Date } {
  if (!previous || now.getTime() - previous.windowStartedAt.getTime() >= REQUEST_WINDOW_MS) return { requests: 1, windowStartedAt: now };
  if (previous.requests >= MAX_REQUESTS) {
    throw new DomainError('TOO_MANY_REQUESTS', `At most ${MAX_REQUESTS} codes a day for one identifier; try again tomorrow`, 'identifier');
  }
  return { requests: previous.requests + 1, windowStartedAt: previous.windowStartedAt };
}

/** The user error for an outcome other than VERIFIED. The same whether or not another member holds the identifier. */
export function verificationFailure(outcome: Exclude<VerificationOutcome, 'VERIFIED'> | 'NO_REQUEST'): DomainError {
  switch (outcome) {
    case 'EXPIRED':
      return new DomainError('CODE_EXPIRED', 'The code has expired: ask for a new one', 'code');
    case 'TOO_MANY_ATTEMPTS':
      return new DomainError('TOO_MANY_ATTEMPTS', `${MAX_ATTEMPTS} wrong codes: ask for a new one`, 'code');
    default:
      return new DomainError('VERIFICATION_FAILED', 'The code does not match', 'code');
  }
}
