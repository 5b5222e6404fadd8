import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type TierChangeSource = 'MANUAL' | 'AUTOMATIC';

@Entity({ name: 'tier_changes' })
export class TierChangeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ name: 'from_tier_id', type: 'uuid', nullable: true })
  fromTierId: string | null;

  @Column({ name: 'to_tier_id', type: 'uuid', nullable: true })
  toTierId: string | null;

  @Column({ type: 'text' })
  reason: string;

  @Column({ type: 'text' })
  source: TierChangeSource;

  @Column({ name: 'changed_by', type: 'text', nullable: true })
  changedBy: string | null;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt: Date;
}
