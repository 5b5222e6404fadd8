import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ConsentChannel, ConsentPurpose, ConsentSource } from './consent';

@Entity({ name: 'consent_changes' })
export class ConsentChangeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ type: 'text' })
  channel: ConsentChannel;

  @Column({ type: 'text' })
  purpose: ConsentPurpose;

  @Column({ type: 'boolean' })
  granted: boolean;

  @Column({ type: 'text' })
  source: ConsentSource;

  @Column({ name: 'changed_by', type: 'text', nullable: true })
  changedBy: string | null;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt: Date;
}
