import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type ProgramType = 'RECOGNITION' | 'COLLECTION' | 'DISCOUNT' | 'AFFINITY' | 'COALITION';
export type ProgramStatus = 'DRAFT' | 'ACTIVE' | 'SUSPENDED' | 'CLOSED';

@Entity({ name: 'programs' })
export class ProgramEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  type: ProgramType;

  @Column({ name: 'points_currency_name', type: 'text' })
  pointsCurrencyName: string;

  /** numeric(18,8): money stays exact, as a string. */
  @Column({ name: 'point_value_amount', type: 'numeric', precision: 18, scale: 8 })
  pointValueAmount: string;

  @Column({ name: 'point_value_currency', type: 'char', length: 3 })
  pointValueCurrency: string;

  @Column({ type: 'text' })
  status: ProgramStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
