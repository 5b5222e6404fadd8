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

// --- Surveys (issue 12: listening to members) ---

/** Creating and closing a program's surveys: its ADMIN staff and platform operators. */
export function canManageSurveys(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** Listing surveys, their results, NPS and free-text answers: the program's ADMIN and ANALYST staff, and platform operators. */
export function canReadSurveyResults(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}

/**
 * A member's surveys, and answering one: the member themself, or the program's AGENT and ADMIN
 * staff on their behalf (a phone call); operators too, as elsewhere. Analysts read, never answer.
 */
export function canActForMember(viewer: Viewer, member: { id: string; programId: string }): boolean {
  if (viewer.kind === 'MEMBER') return viewer.programId === member.programId && viewer.memberId === member.id;
  return isStaffOf(viewer, member.programId, ['AGENT', 'ADMIN']);
}

// --- Experiments (issue 12) ---

/** Who configures the holdout and creates, starts and stops experiments: the program's ADMIN staff (and platform operators). */
export function canManageExperiments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** Who reads experiments, their readouts, the holdout and the business case: the program's ADMIN and ANALYST staff (and platform operators). */
export function canReadExperiments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}

// --- Segments (issue 12) ---

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

// --- KPI settings and success criteria (issue 12) ---

/** Who changes a program's analytics settings (a new definition version) and defines success criteria: its ADMIN staff and platform operators. */
export function canConfigureAnalytics(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}
