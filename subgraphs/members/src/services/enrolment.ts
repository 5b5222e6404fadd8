import { randomUUID } from 'node:crypto';
import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { MemberEntity } from '../entities/member';
import { MemberIdentifierEntity } from '../entities/member-identifier';
import { MemberStatusChangeEntity } from '../entities/member-status-change';
import { ProgramEntity } from '../entities/program';
import { TierEntity } from '../entities/tier';
import { assertEnrolmentIdentifiers, enrolmentChannel, enrolmentConsentSource, verifiedAtEnrolment } from '../domain/enrolment';
import { validateIdentifiers, type IdentifierInput } from '../domain/identifiers';
import { canEnrol } from '../domain/policy';
import { validateProfile, type ProfileInput } from '../domain/profile';
import { acceptsEnrolment } from '../domain/program';
import { newReferralCode } from '../domain/referral';
import { periodAt } from '../domain/tier-qualification';
import { assertDistinctConsents, writeConsents, type ConsentInput } from './consents';
import { requestVerification } from './identifier-verification';
import { announceProfile, inMemberTransaction } from './members';
import type { ProgramSettingsService } from './program-settings';
import type { ReferralService } from './referrals';

export interface EnrollInput {
  programId: string;
  profile?: ProfileInput | null;
  identifiers: IdentifierInput[];
  consents?: ConsentInput[] | null;
  /** A member's referral code, given by the friend who invited them. */
  referralCode?: string | null;
}

const REFUSED = {
  SELF: 'You can only enrol in your own program',
  AGENT: 'Staff enrol members only in their own program',
  PARTNER: 'A partner key enrols members only in its own program',
} as const;

/**
 * Enrolment: the member, their identifiers, first status, consents and entry tier in one
 * transaction, announced as MemberEnrolled; a referral code links them to who invited them.
 * By a person (SELF), the program's staff (AGENT) or a partner's till (PARTNER): what each may
 * give and how far it is trusted is in domain/enrolment.ts.
 */
export class EnrolmentService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settings: ProgramSettingsService,
    private readonly referrals: ReferralService,
  ) {}

  async enroll(viewer: Viewer, input: EnrollInput): Promise<MemberEntity> {
    const channel = enrolmentChannel(viewer);
    const selfEnrolment = channel === 'SELF';
    if (!canEnrol(viewer, input.programId)) throw forbidden(REFUSED[channel]);
    if (selfEnrolment && viewer.memberId) throw new DomainError('ALREADY_ENROLLED', 'You are already a member of this program');

    const now = this.clock.now();
    const profile = validateProfile(input.profile ?? {}, now);
    const identifiers = validateIdentifiers(input.identifiers);
    // One decision per channel and purpose, as setConsents: this also bounds the list (12 pairs).
    if (input.consents) assertDistinctConsents(input.consents);
    // Before anything is written: a card cannot receive a code; a partner's till gives its card.
    assertEnrolmentIdentifiers(channel, identifiers.map((identifier) => identifier.type));

    return inMemberTransaction(this.db, async (tx) => {
      // FOR SHARE: a program being closed at this moment cannot slip an enrolment in.
      const program = await tx.getRepository(ProgramEntity).findOne({ where: { id: input.programId }, lock: { mode: 'pessimistic_read' } });
      if (!program) throw new DomainError('PROGRAM_NOT_FOUND', 'No such program', 'programId');
      if (!acceptsEnrolment(program.status)) {
        throw new DomainError('PROGRAM_NOT_ACCEPTING', `The program is ${program.status} and does not accept enrolments`, 'programId');
      }
      const settings = await this.settings.get(program.id, tx);
      const member = await tx.getRepository(MemberEntity).save({
        programId: program.id,
        subject: selfEnrolment ? viewer.subject : null,
        status: 'ACTIVE' as const,
        statusReason: null,
        firstName: profile.firstName ?? null,
        lastName: profile.lastName ?? null,
        birthDate: profile.birthDate ?? null,
        preferredLanguage: profile.preferredLanguage ?? null,
        tierId: await this.entryTierId(tx, program.id),
        manualTierId: null,
        manualUntil: null,
        downgradeDueAt: null,
        tierPeriodStart: periodAt(settings.tiers, now).start,
        referralCode: newReferralCode(),
        enrolledVia: channel,
        enrolledAt: now,
        updatedAt: now,
      });
      // Staff enrol with identifiers they have seen, a partner with the card it issued (verified at
      // once; a card held by another member fails the whole enrolment as IDENTIFIER_TAKEN, which is
      // also what a till's retry meets); the rest is confirmed with a code, sent after MemberEnrolled.
      const verified = identifiers.filter((identifier) => verifiedAtEnrolment(channel, identifier.type));
      if (verified.length) {
        await tx.getRepository(MemberIdentifierEntity).insert(verified.map((identifier) => ({ ...identifier, memberId: member.id, programId: program.id, addedAt: now })));
      }
      await tx.getRepository(MemberStatusChangeEntity).insert({
        memberId: member.id,
        fromStatus: null,
        toStatus: 'ACTIVE',
        reason: 'Enrolled',
        changedBy: viewer.subject,
        changedAt: now,
      });
      const referralId = input.referralCode ? randomUUID() : null;
      const partnerId = channel === 'PARTNER' ? viewer.partnerId : null;
      const enrolled = { programId: program.id, memberId: member.id, channel, referralId, enrolledAt: now.toISOString(), tierId: member.tierId, subject: member.subject, partnerId };
      // Written before a ReferralQualified of the same enrolment: per member, events keep this order.
      await emit(tx, membersEvents, [{ type: 'MemberEnrolled', payload: enrolled }], now);
      // After MemberEnrolled: its ConsentsChanged must reach consumers after the row it updates exists.
      if (input.consents?.length) {
        await writeConsents(tx, viewer, { id: member.id, programId: program.id }, input.consents, enrolmentConsentSource(channel), now);
      }
      // After MemberEnrolled too, for the same reason; only when a birth date or language was given.
      await announceProfile(tx, member, null, now);
      for (const [i, identifier] of identifiers.entries()) {
        if (!verifiedAtEnrolment(channel, identifier.type)) await requestVerification(tx, member, identifier, now, `identifiers.${i}`);
      }
      if (input.referralCode && referralId) await this.referrals.recordAtEnrolment(tx, member, settings, input.referralCode, referralId, now);
      return member;
    });
  }

  /** New members start in the lowest tier with no threshold, if the program has one. */
  private async entryTierId(tx: EntityManager, programId: string): Promise<string | null> {
    const entry = await tx.getRepository(TierEntity).findOne({ where: { programId, qualifyingThreshold: 0 }, order: { rank: 'ASC' } });
    return entry?.id ?? null;
  }
}
