import { DomainError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import type { MemberStatus } from '../entities/member';
import { assertStatusTransition, memberMayChangeOwnStatus } from './member-status';

function refusal(from: MemberStatus, to: MemberStatus): DomainError {
  try {
    assertStatusTransition(from, to);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`expected ${from} -> ${to} to be refused`);
}

describe('assertStatusTransition', () => {
  it.each([
    ['ACTIVE', 'SUSPENDED'],
    ['SUSPENDED', 'ACTIVE'],
    ['ACTIVE', 'CLOSED'],
    ['SUSPENDED', 'CLOSED'],
  ] as const)('allows %s -> %s', (from, to) => {
    expect(() => assertStatusTransition(from, to)).not.toThrow();
  });

  it.each(['ACTIVE', 'SUSPENDED', 'CLOSED'] as const)('CLOSED is final: it cannot become %s', (to) => {
    const error = refusal('CLOSED', to);
    expect(error.code).toBe('INVALID_STATUS_TRANSITION');
    expect(error.field).toBe('status');
    expect(error.message).toMatch(/closed membership cannot change/);
  });

  it('refuses a change to the status the member already has', () => {
    const error = refusal('ACTIVE', 'ACTIVE');
    expect(error.code).toBe('INVALID_STATUS_TRANSITION');
    expect(error.message).toMatch(/already ACTIVE/);
  });
});

describe('memberMayChangeOwnStatus', () => {
  it('lets members close their own membership but not suspend or reactivate it', () => {
    expect(memberMayChangeOwnStatus('CLOSED')).toBe(true);
    expect(memberMayChangeOwnStatus('SUSPENDED')).toBe(false);
    expect(memberMayChangeOwnStatus('ACTIVE')).toBe(false);
  });
});
