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
