import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

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
