import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { IdentifierType } from './member-identifier';

/**
 * An identifier a member added themself, waiting for the code sent to it
 * (domain/identifier-verification.ts). It finds nobody at the till until confirmed, when it moves
 * to `member_identifiers`.
 */
@Entity({ name: 'identifier_verifications' })
export class IdentifierVerificationEntity {
  /** Chosen by the service: the code's hash is salted with it. */
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ name: 'program_id', type: 'uuid' })
  programId: string;

  /** EMAIL or PHONE: a code cannot be sent to a card. */
  @Column({ type: 'text' })
  type: IdentifierType;

  /** Normalised, as in `member_identifiers`. */
  @Column({ type: 'text' })
  value: string;

  /** sha256 of `<id>:<code>`: the table never holds a working code. */
  @Column({ name: 'code_hash', type: 'text' })
  codeHash: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** Wrong codes typed for the current code. */
  @Column({ type: 'int' })
  attempts: number;

  /** Codes asked for since `windowStartedAt` (at most MAX_REQUESTS a day). */
  @Column({ type: 'int' })
  requests: number;

  @Column({ name: 'window_started_at', type: 'timestamptz' })
  windowStartedAt: Date;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt: Date;
}
