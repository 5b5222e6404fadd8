import { isOperator, isStaffOf, type Viewer } from '@loyalty-graph/shared';

/**
 * Ownership rules, on top of the @access directive: a member reads and edits only themself;
 * AGENT and ADMIN only within their program; staff of one program never see another;
 * platform operators (ADMIN without a program) see every program.
 */
export interface MemberRef {
  id: string;
  programId: string;
  subject: string | null;
}

export function isSelf(viewer: Viewer, member: MemberRef): boolean {
  if (viewer.kind !== 'MEMBER' || viewer.programId !== member.programId) return false;
  if (viewer.memberId) return viewer.memberId === member.id;
  // Before the identity provider learns the member id, the subject ties the login to the member.
  return viewer.subject !== null && viewer.subject === member.subject;
}

export function canReadMember(viewer: Viewer, member: MemberRef): boolean {
  return viewer.kind === 'SERVICE' || isSelf(viewer, member) || isStaffOf(viewer, member.programId, ['ADMIN', 'AGENT']);
}

export const canEditMember = canReadMember;

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
