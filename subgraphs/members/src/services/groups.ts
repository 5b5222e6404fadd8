import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { isUniqueViolation } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { MemberEntity } from '../entities/member';
import { GroupMembershipEntity, MemberGroupEntity, type MemberGroupType } from '../entities/member-group';
import { canManageMembers } from '../domain/policy';
import { requiredText } from '../domain/text';

/** Member groups: B2B companies, affinity groups, households. */
export class GroupService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: { programId: string; type: MemberGroupType; name: string }): Promise<MemberGroupEntity> {
    if (!canManageMembers(viewer, input.programId)) throw forbidden('Staff manage groups only in their own program');
    const name = requiredText(input.name, 'name', 100);
    try {
      return await this.db.getRepository(MemberGroupEntity).save({ programId: input.programId, type: input.type, name, createdAt: this.clock.now() });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError('GROUP_NAME_TAKEN', 'The program already has a group with this name', 'name');
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') {
        throw new DomainError('PROGRAM_NOT_FOUND', 'No such program', 'programId');
      }
      throw error;
    }
  }

  /**
   * Adds the member and, in the same transaction, tells others (MemberJoinedGroup: catalog's
   * audiences and GROUP checks follow it). Adding a member who is in the group already changes
   * nothing and emits nothing.
   */
  async addMember(viewer: Viewer, groupId: string, memberId: string): Promise<MemberGroupEntity> {
    return this.db.transaction(async (tx) => {
      const { group, member } = await this.load(tx, viewer, groupId, memberId);
      const memberships = tx.getRepository(GroupMembershipEntity);
      // The member row lock (load) serialises changes of this member's groups, so this check holds until commit.
      if (await memberships.existsBy({ groupId, memberId })) return group;
      const now = this.clock.now();
      await memberships.insert({ groupId, memberId, joinedAt: now });
      await this.announce(tx, 'MemberJoinedGroup', member, groupId, now);
      return group;
    });
  }

  /** Removes the member and, in the same transaction, tells others (MemberLeftGroup). */
  async removeMember(viewer: Viewer, groupId: string, memberId: string): Promise<MemberGroupEntity> {
    return this.db.transaction(async (tx) => {
      const { group, member } = await this.load(tx, viewer, groupId, memberId);
      const result = await tx.getRepository(GroupMembershipEntity).delete({ groupId, memberId });
      if (!result.affected) throw new DomainError('NOT_IN_GROUP', 'The member is not in this group', 'memberId');
      await this.announce(tx, 'MemberLeftGroup', member, groupId, this.clock.now());
      return group;
    });
  }

  /**
   * The event carries the member's whole set of groups after the change, read under the member
   * row lock (so two changes at once cannot each miss the other's group): a consumer that never
   * saw the member's earlier group events still learns the truth from the next one.
   */
  private async announce(tx: EntityManager, type: 'MemberJoinedGroup' | 'MemberLeftGroup', member: MemberEntity, groupId: string, at: Date): Promise<void> {
    const rows = await tx.getRepository(GroupMembershipEntity).find({ select: { groupId: true }, where: { memberId: member.id }, order: { groupId: 'ASC' } });
    const payload = { programId: member.programId, memberId: member.id, groupId, groupIds: rows.map((row) => row.groupId), at: at.toISOString() };
    await emit(tx, membersEvents, [{ type, payload }], at);
  }

  private async load(tx: EntityManager, viewer: Viewer, groupId: string, memberId: string) {
    const group = await tx.getRepository(MemberGroupEntity).findOneBy({ id: groupId });
    if (!group) throw new DomainError('GROUP_NOT_FOUND', 'No such group', 'groupId');
    if (!canManageMembers(viewer, group.programId)) throw forbidden('Staff manage groups only in their own program');
    // Locked: one change of the member's groups at a time (see announce).
    const member = await tx.getRepository(MemberEntity).findOne({ where: { id: memberId }, lock: { mode: 'pessimistic_write' } });
    // A group never mixes programs.
    if (!member || member.programId !== group.programId) throw new DomainError('MEMBER_NOT_FOUND', 'No such member in the group’s program', 'memberId');
    return { group, member };
  }
}
