import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ConsentChannel = 'EMAIL' | 'SMS' | 'PUSH' | 'POST';
export type ConsentPurpose = 'MARKETING' | 'PROFILING' | 'PARTNER_SHARING' | 'PARTNER_MARKETING';
export type ConsentSource = 'ENROLMENT' | 'MEMBER_PORTAL' | 'HOTLINE' | 'PARTNER' | 'IMPORT';

/** The current decision per (member, channel, purpose); history lives in consent_changes. */
@Entity({ name: 'consents' })
export class ConsentEntity {
  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @PrimaryColumn({ type: 'text' })
  channel: ConsentChannel;

  @PrimaryColumn({ type: 'text' })
  purpose: ConsentPurpose;

  @Column({ type: 'boolean' })
  granted: boolean;

  @Column({ type: 'text' })
  source: ConsentSource;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
