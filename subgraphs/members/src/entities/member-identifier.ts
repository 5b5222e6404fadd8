import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type IdentifierType = 'CARD' | 'EMAIL' | 'PHONE';

@Entity({ name: 'member_identifiers' })
export class MemberIdentifierEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  /** Denormalised so (program, type, value) can be unique and looked up in one index probe. */
  @Column({ name: 'program_id', type: 'uuid' })
  programId: string;

  @Column({ type: 'text' })
  type: IdentifierType;

  /** Normalised form (lower-case email, E.164 phone, upper-case card). */
  @Column({ type: 'text' })
  value: string;

  @Column({ name: 'added_at', type: 'timestamptz' })
  addedAt: Date;
}
