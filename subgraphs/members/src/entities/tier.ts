import { selectList } from '@loyalty-graph/shared/db';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { LadderTier } from '../domain/tier-qualification';

export interface TierBenefit {
  code: string;
  description: string;
}

@Entity({ name: 'tiers' })
export class TierEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'program_id', type: 'uuid' })
  programId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'int' })
  rank: number;

  @Column({ name: 'qualifying_threshold', type: 'int' })
  qualifyingThreshold: number;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  benefits: TierBenefit[];
}

/** A tier as the qualification rules see it (the domain's LadderTier), read on the accrual path (`FROM tiers t`). */
export const ladderColumns = selectList<LadderTier>({ id: 't.id', rank: 't.rank', qualifyingThreshold: 't.qualifying_threshold' });
