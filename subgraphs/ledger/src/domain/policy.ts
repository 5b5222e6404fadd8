import { isStaffOf, type Viewer } from '@loyalty-graph/shared';

/** A member sees and spends only their own points; staff act only within their program. */
export function canReadMemberPoints(viewer: Viewer, memberId: string, programId: string): boolean {
  if (viewer.kind === 'SERVICE') return true;
  if (viewer.kind === 'MEMBER') return viewer.memberId === memberId && viewer.programId === programId;
  return isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

/** Recording purchases and moving points: staff of the program or an internal service. */
export function canOperate(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT']);
}

export function canConfigure(viewer: Viewer, programId: string): boolean {
  return isStaffOf(viewer, programId, ['ADMIN']);
}

export function canReadProgramLedger(viewer: Viewer, programId: string): boolean {
  return viewer.kind === 'SERVICE' || isStaffOf(viewer, programId, ['ADMIN', 'AGENT', 'ANALYST']);
}
