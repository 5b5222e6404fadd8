import { isStaffOf, type Viewer } from '@loyalty-graph/shared';

/**
 * Ownership rules, on top of the @access directive (the coarse gate per field): staff act only
 * within their program (platform operators in every program); internal services are trusted.
 */

/** Rewards and catalogs with everything about them (history included). */
export function canReadCatalog(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/** Creating and changing rewards, stock and catalogs: the program's administrators. */
export function canManageCatalog(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

/** What a member can order: the member themself, and the program's agents and admins. */
export function canReadMemberCatalogs(viewer: Viewer, memberId: string, programId: string): boolean {
  if (viewer.kind === 'MEMBER') return viewer.memberId === memberId && viewer.programId === programId;
  return canReadCatalog(viewer, programId);
}

/**
 * A voucher code in full: only the member it was issued to. Codes are bearer value, so staff
 * (support, admins, operators) and services see the masked code only: whoever can read a code can
 * spend it, and a support screen is no place for that.
 */
export function canSeeWholeCode(viewer: Viewer, code: { memberId: string; programId: string }): boolean {
  return viewer.kind === 'MEMBER' && viewer.memberId === code.memberId && viewer.programId === code.programId;
}
