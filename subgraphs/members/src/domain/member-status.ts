import { DomainError } from '@loyalty-graph/shared';
import type { MemberStatus } from '../entities/member';

/** Which status changes are allowed: closing is final, suspension is reversible. */
const TRANSITIONS: Record<MemberStatus, readonly MemberStatus[]> = {
  ACTIVE: ['SUSPENDED', 'CLOSED'],
  SUSPENDED: ['ACTIVE', 'CLOSED'],
  CLOSED: [],
};

export function assertStatusTransition(from: MemberStatus, to: MemberStatus): void {
  if (TRANSITIONS[from].includes(to)) return;
  const why = from === 'CLOSED' ? 'a closed membership cannot change' : from === to ? `the member is already ${to}` : `${from} cannot become ${to}`;
  throw new DomainError('INVALID_STATUS_TRANSITION', `Status change not allowed: ${why}`, 'status');
}

/** Members may end their own membership; suspending or reactivating is for staff. */
export function memberMayChangeOwnStatus(to: MemberStatus): boolean {
  return to === 'CLOSED';
}
