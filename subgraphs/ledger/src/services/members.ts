import { DomainError, forbidden, type Viewer } from '@loyalty-graph/shared';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { canOperate, canSeeMembersOf } from '../domain/policy';

/**
 * Looks a member up in the members subgraph and checks the viewer may move their points
 * (`may`: canOperate unless the write has its own rule, as recording a purchase does).
 */
export async function memberForWrite(
  directory: MemberDirectory,
  viewer: Viewer,
  memberId: string,
  options: { mustBeActive: boolean; may?: (viewer: Viewer, programId: string) => boolean; field?: string },
): Promise<MemberSnapshot> {
  const [member] = await directory([memberId]);
  return checkMemberForWrite(member ?? null, viewer, options);
}

/** memberForWrite's checks on a member already looked up (a bulk call looks all its members up at once). */
export function checkMemberForWrite(
  member: MemberSnapshot | null,
  viewer: Viewer,
  options: { mustBeActive: boolean; may?: (viewer: Viewer, programId: string) => boolean; field?: string },
): MemberSnapshot {
  if (!member || !canSeeMembersOf(viewer, member.programId)) throw new DomainError('MEMBER_NOT_FOUND', 'No such member', options.field ?? 'memberId');
  if (!(options.may ?? canOperate)(viewer, member.programId)) throw forbidden('You can move points only in your own program');
  if (options.mustBeActive) assertActive(member);
  return member;
}

/**
 * Earning and spending need an active member. Checked inside the idempotent work, after the key
 * lookup: a retry of a write that already committed replays its result even if the member was
 * suspended in between.
 */
export function assertActive(member: MemberSnapshot, field = 'memberId'): void {
  if (member.status !== 'ACTIVE') throw new DomainError('MEMBER_NOT_ACTIVE', `The member is ${member.status}`, field);
}
