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

/** Who configures the holdout and creates, starts and stops experiments: the program's ADMIN staff (and platform operators). */
export function canManageExperiments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** Who reads experiments, their readouts, the holdout and the business case: the program's ADMIN and ANALYST staff (and platform operators). */
export function canReadExperiments(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN', 'ANALYST']);
}
