import { describe, expect, it } from 'vitest';
import { DomainError } from '@loyalty-graph/shared';
import { assertSelfServiceType, checkCode, CODE_TTL_MS, hashCode, MAX_ATTEMPTS, MAX_REQUESTS, newCode, nextRequest, REQUEST_WINDOW_MS, type VerificationState } from './identifier-verification';

const now = new Date('2026-03-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);

function requested(code: string, over: Partial<VerificationState> = {}): VerificationState {
  const id = '4b0e2f4c-1d7a-4a53-9e0f-1c2d3e4f5a6b';
  return { id, codeHash: hashCode(id, code), expiresAt: later(CODE_TTL_MS), attempts: 0, requests: 1, windowStartedAt: now, ...over };
}

describe('verification codes', () => {
  it('are six digits, and differ from one request to the next', () => {
    const codes = Array.from({ length: 50 }, newCode);
    for (const code of codes) expect(code).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(45);
  });

  it('are stored as a hash salted with the request, never as themselves', () => {
    const state = requested('123456');
    expect(state.codeHash).not.toContain('123456');
    expect(hashCode('another-request', '123456')).not.toBe(state.codeHash);
  });

  it('verify with the right code (spaces around it forgiven), and not with another', () => {
    expect(checkCode(requested('012345'), '012345', now)).toBe('VERIFIED');
    expect(checkCode(requested('012345'), ' 012345 ', now)).toBe('VERIFIED');
    expect(checkCode(requested('012345'), '12345', now)).toBe('WRONG_CODE');
    expect(checkCode(requested('012345'), '999999', now)).toBe('WRONG_CODE');
  });

  it('expire: the right code no longer counts once its time is up', () => {
    expect(checkCode(requested('111111'), '111111', later(CODE_TTL_MS - 1))).toBe('VERIFIED');
    expect(checkCode(requested('111111'), '111111', later(CODE_TTL_MS))).toBe('EXPIRED');
  });

  it(`are used up after ${MAX_ATTEMPTS} wrong tries, even for the right code`, () => {
    expect(checkCode(requested('222222', { attempts: MAX_ATTEMPTS - 1 }), '222222', now)).toBe('VERIFIED');
    expect(checkCode(requested('222222', { attempts: MAX_ATTEMPTS }), '222222', now)).toBe('TOO_MANY_ATTEMPTS');
  });
});

describe('requests for a code', () => {
  it(`are limited to ${MAX_REQUESTS} per identifier per day, counted from the first`, () => {
    let state = nextRequest(null, now);
    for (let i = 2; i <= MAX_REQUESTS; i++) state = nextRequest(state, later(i * 1000));
    expect(state).toEqual({ requests: MAX_REQUESTS, windowStartedAt: now });
    expect(() => nextRequest(state, later(REQUEST_WINDOW_MS - 1))).toThrow(DomainError);
    expect(nextRequest(state, later(REQUEST_WINDOW_MS))).toEqual({ requests: 1, windowStartedAt: later(REQUEST_WINDOW_MS) });
  });
});

describe('what a member may add themself', () => {
  it('emails and phones, not cards (a code cannot be sent to a card)', () => {
    expect(() => assertSelfServiceType('EMAIL', 'identifier')).not.toThrow();
    expect(() => assertSelfServiceType('PHONE', 'identifier')).not.toThrow();
    expect(() => assertSelfServiceType('CARD', 'identifier.type')).toThrow(expect.objectContaining({ code: 'CARD_NEEDS_STAFF', field: 'identifier.type' }));
  });
});
