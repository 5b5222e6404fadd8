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

/** Placing an order: a member for themself; the program's agents and admins for any of its members. */
export function canOrderFor(viewer: Viewer, memberId: string, programId: string): boolean {
  if (viewer.kind === 'MEMBER') return viewer.memberId === memberId && viewer.programId === programId;
  return isStaffOf(viewer, programId, ['AGENT', 'ADMIN']);
}

/** Reading an order: its member, and the program's agents, admins and fulfilment staff. */
export function canReadOrder(viewer: Viewer, order: { memberId: string; programId: string }): boolean {
  if (viewer.kind === 'MEMBER') return viewer.memberId === order.memberId && viewer.programId === order.programId;
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, order.programId, ['AGENT', 'ADMIN', 'FULFILMENT']);
}

/** Packing, shipping and delivering: fulfilment staff (and admins) of the program. */
export function canFulfil(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['FULFILMENT', 'ADMIN']);
}

/**
 * A voucher code in full: only the member it was issued to. Codes are bearer value, so staff
 * (support, admins, operators) and services see the masked code only: whoever can read a code can
 * spend it, and a support screen is no place for that.
 */
export function canSeeWholeCode(viewer: Viewer, code: { memberId: string; programId: string }): boolean {
  return viewer.kind === 'MEMBER' && viewer.memberId === code.memberId && viewer.programId === code.programId;
}

/** Working complaints (starting, asking, resolving, rejecting): the program's agents and admins. */
export function canHandleComplaints(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['AGENT', 'ADMIN']);
}

/**
 * Reading a complaint (with its whole history): its member, the program's agents and admins, and
 * services. Not fulfilment: they pack and ship, complaints are the hotline's.
 */
export function canReadComplaint(viewer: Viewer, complaint: { memberId: string; programId: string }): boolean {
  if (viewer.kind === 'MEMBER') return viewer.memberId === complaint.memberId && viewer.programId === complaint.programId;
  return viewer.kind === 'SERVICE' || canHandleComplaints(viewer, complaint.programId);
}
