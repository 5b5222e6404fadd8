import { hasScopes, isOperator, isStaffOf, type Viewer } from '@loyalty-graph/shared';
import type { MemberStatus } from '../entities/member';
import { memberMayChangeOwnStatus } from './member-status';

/**
 * Ownership rules, on top of the @access directive: a member reads and edits only themself;
 * AGENT and ADMIN only within their program; staff of one program never see another;
 * platform operators (ADMIN without a program) see every program.
 */
export interface MemberRef {
  id: string;
  programId: string;
}

/**
 * The subgraph kit settles the viewer's member id from the token's subject before any resolver
 * runs (one rule for every subgraph, docs/identity.md), so ownership compares member ids only.
 */
export function isSelf(viewer: Viewer, member: MemberRef): boolean {
  return viewer.kind === 'MEMBER' && viewer.programId === member.programId && viewer.memberId !== null && viewer.memberId === member.id;
}

export function canReadMember(viewer: Viewer, member: MemberRef): boolean {
  return viewer.kind === 'SERVICE' || isSelf(viewer, member) || isStaffOf(viewer, member.programId, ['ADMIN', 'AGENT']);
}

export const canEditMember = canReadMember;

/** Members change their own status only to leave (close); staff move it as the transitions allow. */
export function canChangeStatus(viewer: Viewer, member: MemberRef, to: MemberStatus): boolean {
  return canEditMember(viewer, member) && (!isSelf(viewer, member) || memberMayChangeOwnStatus(to));
}

/** A tier set by hand is an agent's decision: never the member's own. */
export function canAssignTier(viewer: Viewer, member: MemberRef): boolean {
  return canEditMember(viewer, member) && !isSelf(viewer, member);
}

/**
 * A signed-in person enrols themself in the program their token names; staff enrol others in their
 * own program; a partner key with members:enroll enrols people at its till, in its own program only.
 */
export function canEnrol(viewer: Viewer, programId: string): boolean {
  if (viewer.kind === 'MEMBER') return viewer.programId === programId;
  if (viewer.kind === 'PARTNER') return viewer.partnerId !== null && viewer.programId === programId && hasScopes(viewer, ['members:enroll']);
  return canManageMembers(viewer, programId);
}

export function canManageMembers(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

export function canReadProgram(viewer: Viewer, programId: string): boolean {
  if (viewer.kind === 'SERVICE') return true;
  if (viewer.kind === 'MEMBER') return viewer.programId === programId;
  return isStaffOf(viewer, programId, ['ADMIN', 'AGENT', 'FULFILMENT', 'ANALYST']);
}

export function canAdministerProgram(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

export function canCreatePrograms(viewer: Viewer): boolean {
  return isOperator(viewer);
}

/** The list of programs: operators see every program, everyone else at most their own. */
export function canListEveryProgram(viewer: Viewer): boolean {
  return isOperator(viewer);
}
