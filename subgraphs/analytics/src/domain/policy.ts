import { isStaffOf, type Viewer } from '@loyalty-graph/shared';

/**
 * Who reads a program's KPIs, on top of the @access directive: its ADMIN and ANALYST staff
 * (platform operators in every program, as isStaffOf says). Members and partners never do.
 */
export function canReadProgramKpis(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}

/** Who compares analytics with the ledger: the program's ADMIN and platform operators (ADMIN staff with no program). */
export function canReconcile(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/**
 * Who creates and changes a program's segments: its ADMIN and ANALYST staff (analysts build the
 * audiences they analyse) and platform operators.
 */
export function canManageSegments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}

/**
 * Who archives a segment, or decides whether members see theirs: the program's ADMIN (archiving
 * empties a segment that partners' offers and catalogs may target) and platform operators.
 */
export function canArchiveSegments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** Who lists a program's segments, their rules and profiles, and members' RFM: its ADMIN, ANALYST and AGENT staff. */
export function canReadSegments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST', 'AGENT']);
}

/**
 * What a viewer sees of a member's segments: ALL for the program's staff, VISIBLE (segments marked
 * visibleToMembers, and only if the program lets members see them) for the member themself, else
 * nothing (FORBIDDEN).
 */
export function memberSegmentsView(viewer: Viewer, member: { id: string; programId: string }, membersSeeSegments: boolean): 'ALL' | 'VISIBLE' | 'NONE' | null {
  if (viewer.kind === 'MEMBER') {
    if (viewer.programId !== member.programId || viewer.memberId !== member.id) return null;
    return membersSeeSegments ? 'VISIBLE' : 'NONE';
  }
  return canReadSegments(viewer, member.programId) ? 'ALL' : null;
}
