import { selectList } from '@loyalty-graph/shared/db';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { MemberTierState } from '../domain/tier-qualification';

export type MemberStatus = 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
export type EnrolmentChannel = 'SELF' | 'AGENT' | 'PARTNER';

@Entity({ name: 'members' })
export class MemberEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'program_id', type: 'uuid' })
  programId: string;

  /** The identity provider's subject for self-enrolled members; unique within the program. */
  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ type: 'text' })
  status: MemberStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  @Column({ name: 'first_name', type: 'text', nullable: true })
  firstName: string | null;

  @Column({ name: 'last_name', type: 'text', nullable: true })
  lastName: string | null;

  /** A calendar date, kept as its ISO string so no time zone can shift it. */
  @Column({ name: 'birth_date', type: 'date', nullable: true })
  birthDate: string | null;

  @Column({ name: 'preferred_language', type: 'text', nullable: true })
  preferredLanguage: string | null;

  @Column({ name: 'tier_id', type: 'uuid', nullable: true })
  tierId: string | null;

  /** A tier an agent set by hand; how it binds automatic changes is the program's manualMode. */
  @Column({ name: 'manual_tier_id', type: 'uuid', nullable: true })
  manualTierId: string | null;

  /** When the manual tier stops binding; null: until an agent changes it. */
  @Column({ name: 'manual_until', type: 'timestamptz', nullable: true })
  manualUntil: Date | null;

  /** A downgrade decided at a period end and waiting out the program's grace. */
  @Column({ name: 'downgrade_due_at', type: 'timestamptz', nullable: true })
  downgradeDueAt: Date | null;

  /** The qualification period the member's tier was last evaluated in (period ends move it on). */
  @Column({ name: 'tier_period_start', type: 'timestamptz' })
  tierPeriodStart: Date;

  /** What this member gives friends to enrol with. */
  @Column({ name: 'referral_code', type: 'text', nullable: true })
  referralCode: string | null;

  @Column({ name: 'enrolled_via', type: 'text' })
  enrolledVia: EnrolmentChannel;

  @Column({ name: 'enrolled_at', type: 'timestamptz' })
  enrolledAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * The member's tier state, typed SQL (README rule): what the tier projection and the period-end
 * job read, with the row locked, on the hot path of every accrual (`FROM members m`).
 */
export interface MemberTierRow extends MemberTierState {
  id: string;
  programId: string;
  tierPeriodStart: Date;
}

export const memberTierColumns = selectList<MemberTierRow>({
  id: 'm.id',
  programId: 'm.program_id',
  tierId: 'm.tier_id',
  manualTierId: 'm.manual_tier_id',
  manualUntil: 'm.manual_until',
  downgradeDueAt: 'm.downgrade_due_at',
  tierPeriodStart: 'm.tier_period_start',
});
