import type { TierChangeReason } from '@loyalty-graph/shared/contracts';
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

  /** QUALIFIED, PERIOD_END, GRACE_ENDED or MANUAL; null for changes made before tiers moved by themselves. */
  @Column({ name: 'reason_code', type: 'text', nullable: true })
  reasonCode: TierChangeReason | null;

  @Column({ type: 'text' })
  source: TierChangeSource;

  @Column({ name: 'changed_by', type: 'text', nullable: true })
  changedBy: string | null;

  /** Insertion order, for changes made in the same instant. */
  @Column({ type: 'bigint', insert: false, update: false, select: false })
  seq: string;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt: Date;
}
