import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { MemberStatus } from './member';

@Entity({ name: 'member_status_changes' })
export class MemberStatusChangeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  /** Null for the initial status at enrolment. */
  @Column({ name: 'from_status', type: 'text', nullable: true })
  fromStatus: MemberStatus | null;

  @Column({ name: 'to_status', type: 'text' })
  toStatus: MemberStatus;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'changed_by', type: 'text', nullable: true })
  changedBy: string | null;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt: Date;
}
