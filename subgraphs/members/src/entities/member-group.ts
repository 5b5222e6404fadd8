import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type MemberGroupType = 'COMPANY' | 'AFFINITY' | 'HOUSEHOLD';

@Entity({ name: 'member_groups' })
export class MemberGroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'program_id', type: 'uuid' })
  programId: string;

  @Column({ type: 'text' })
  type: MemberGroupType;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity({ name: 'group_memberships' })
export class GroupMembershipEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId: string;

  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ name: 'joined_at', type: 'timestamptz' })
  joinedAt: Date;
}
