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

/** Who changes a program's analytics settings (a new definition version) and defines success criteria: its ADMIN staff and platform operators. */
export function canConfigureAnalytics(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}
