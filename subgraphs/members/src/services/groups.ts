import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { isUniqueViolation } from '@loyalty-graph/shared/db';
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

  async addMember(viewer: Viewer, groupId: string, memberId: string): Promise<MemberGroupEntity> {
    return this.db.transaction(async (tx) => {
      const { group } = await this.load(tx, viewer, groupId, memberId);
      await tx
        .createQueryBuilder()
        .insert()
        .into(GroupMembershipEntity)
        .values({ groupId, memberId, joinedAt: this.clock.now() })
        .orIgnore()
        .execute();
      return group;
    });
  }

  async removeMember(viewer: Viewer, groupId: string, memberId: string): Promise<MemberGroupEntity> {
    return this.db.transaction(async (tx) => {
      const { group } = await this.load(tx, viewer, groupId, memberId);
      const result = await tx.getRepository(GroupMembershipEntity).delete({ groupId, memberId });
      if (!result.affected) throw new DomainError('NOT_IN_GROUP', 'The member is not in this group', 'memberId');
      return group;
    });
  }

  private async load(tx: EntityManager, viewer: Viewer, groupId: string, memberId: string) {
    const group = await tx.getRepository(MemberGroupEntity).findOneBy({ id: groupId });
    if (!group) throw new DomainError('GROUP_NOT_FOUND', 'No such group', 'groupId');
    if (!canManageMembers(viewer, group.programId)) throw forbidden('Staff manage groups only in their own program');
    const member = await tx.getRepository(MemberEntity).findOneBy({ id: memberId });
    // A group never mixes programs.
    if (!member || member.programId !== group.programId) throw new DomainError('MEMBER_NOT_FOUND', 'No such member in the group’s program', 'memberId');
    return { group, member };
  }
}
