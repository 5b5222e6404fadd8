import { randomUUID } from 'node:crypto';
import { DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { isUniqueViolation } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { ConsentEntity, type ConsentChannel, type ConsentPurpose, type ConsentSource } from '../entities/consent';
import { ConsentChangeEntity } from '../entities/consent-change';
import { MemberEntity, type MemberStatus } from '../entities/member';
import { MemberIdentifierEntity, type IdentifierType } from '../entities/member-identifier';
import { MemberStatusChangeEntity } from '../entities/member-status-change';
import { ProgramEntity } from '../entities/program';
import { TierEntity } from '../entities/tier';
import { normalizeIdentifier } from '../domain/identifiers';
import { assertStatusTransition } from '../domain/member-status';
import { canAssignTier, canChangeStatus, canEditMember, canEnrol } from '../domain/policy';
import { validateProfile, type ProfileInput } from '../domain/profile';
import { acceptsEnrolment } from '../domain/program';
import { requiredText } from '../domain/text';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import { newReferralCode } from '../domain/referral';
import { periodAt } from '../domain/tier-qualification';
import type { ProgramSettingsService } from './program-settings';
import type { ReferralService } from './referrals';
import { recordTierChange } from './tiers';

export interface IdentifierInput {
  type: IdentifierType;
  value: string;
}

export interface ConsentInput {
  channel: ConsentChannel;
  purpose: ConsentPurpose;
  granted: boolean;
}

export interface EnrollInput {
  programId: string;
  profile?: ProfileInput | null;
  identifiers: IdentifierInput[];
  consents?: ConsentInput[] | null;
  /** A member's referral code, given by the friend who invited them. */
  referralCode?: string | null;
}

const MAX_IDENTIFIERS = 10;

/**
 * The recorded source must match who is acting, or the audit trail lies: members decide in the
 * member portal, staff on the hotline or by import, integrations as a partner or by import.
 * ENROLMENT is recorded by enrolment itself.
 */
const SOURCES_BY_VIEWER: Record<Viewer['kind'], readonly ConsentSource[]> = {
  MEMBER: ['MEMBER_PORTAL'],
  STAFF: ['HOTLINE', 'IMPORT'],
  SERVICE: ['PARTNER', 'IMPORT'],
  PARTNER: ['PARTNER'],
  ANONYMOUS: [],
};

function assertDistinctConsents(consents: ConsentInput[]): void {
  const seen = new Set<string>();
  for (const [i, consent] of consents.entries()) {
    const key = `${consent.channel}/${consent.purpose}`;
    if (seen.has(key)) throw new InputError(`${key} is given twice`, `consents.${i}`);
    seen.add(key);
  }
}

function assertConsentSource(viewer: Viewer, source: ConsentSource): void {
  const allowed = SOURCES_BY_VIEWER[viewer.kind];
  if (!allowed.includes(source)) throw new InputError(`source must be ${allowed.join(' or ')} for this caller`, 'source');
}

/** Enrolment and everything that changes a member afterwards. Every change is one transaction. */
export class MemberService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settings: ProgramSettingsService,
    private readonly referrals: ReferralService,
  ) {}

  async enroll(viewer: Viewer, input: EnrollInput): Promise<MemberEntity> {
    const selfEnrolment = viewer.kind === 'MEMBER';
    if (!canEnrol(viewer, input.programId)) throw forbidden(selfEnrolment ? 'You can only enrol in your own program' : 'Staff enrol members only in their own program');
    if (selfEnrolment && viewer.memberId) throw new DomainError('ALREADY_ENROLLED', 'You are already a member of this program');

    const now = this.clock.now();
    const profile = validateProfile(input.profile ?? {}, now);
    const identifiers = this.validateIdentifiers(input.identifiers);

    return this.inTransaction(async (tx) => {
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
        enrolledVia: selfEnrolment ? ('SELF' as const) : ('AGENT' as const),
        enrolledAt: now,
        updatedAt: now,
      });
      await tx.getRepository(MemberIdentifierEntity).insert(
        identifiers.map((identifier) => ({ ...identifier, memberId: member.id, programId: program.id, addedAt: now })),
      );
      await tx.getRepository(MemberStatusChangeEntity).insert({
        memberId: member.id,
        fromStatus: null,
        toStatus: 'ACTIVE',
        reason: 'Enrolled',
        changedBy: viewer.subject,
        changedAt: now,
      });
      if (input.consents?.length) {
        await this.writeConsents(tx, viewer, member.id, input.consents, 'ENROLMENT', now);
      }
      const referralId = input.referralCode ? randomUUID() : null;
      const enrolled = { programId: program.id, memberId: member.id, channel: member.enrolledVia, referralId, enrolledAt: now.toISOString(), tierId: member.tierId };
      // Written before a ReferralQualified of the same enrolment: per member, events keep this order.
      await emit(tx, membersEvents, [{ type: 'MemberEnrolled', payload: enrolled }], now);
      if (input.referralCode && referralId) await this.referrals.recordAtEnrolment(tx, member, settings, input.referralCode, referralId, now);
      return member;
    });
  }

  async updateProfile(viewer: Viewer, memberId: string, input: ProfileInput): Promise<MemberEntity> {
    const changes = validateProfile(input, this.clock.now());
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      Object.assign(member, changes, { updatedAt: this.clock.now() });
      return tx.getRepository(MemberEntity).save(member);
    });
  }

  async addIdentifier(viewer: Viewer, memberId: string, input: IdentifierInput): Promise<MemberEntity> {
    const value = normalizeIdentifier(input.type, input.value, 'identifier.value');
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      const count = await tx.getRepository(MemberIdentifierEntity).countBy({ memberId });
      if (count >= MAX_IDENTIFIERS) throw new DomainError('TOO_MANY_IDENTIFIERS', `A member has at most ${MAX_IDENTIFIERS} identifiers`, 'identifier');
      await tx.getRepository(MemberIdentifierEntity).insert({ memberId, programId: member.programId, type: input.type, value, addedAt: this.clock.now() });
      return member;
    });
  }

  async removeIdentifier(viewer: Viewer, memberId: string, input: IdentifierInput): Promise<MemberEntity> {
    const value = normalizeIdentifier(input.type, input.value, 'identifier.value');
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      const identifiers = tx.getRepository(MemberIdentifierEntity);
      // The member row lock serialises removals, so two concurrent removals cannot leave none.
      const all = await identifiers.findBy({ memberId });
      const target = all.find((i) => i.type === input.type && i.value === value);
      if (!target) throw new DomainError('IDENTIFIER_NOT_FOUND', 'The member has no such identifier', 'identifier');
      if (all.length === 1) throw new DomainError('LAST_IDENTIFIER', 'A member keeps at least one identifier', 'identifier');
      await identifiers.delete({ id: target.id });
      return member;
    });
  }

  async changeStatus(viewer: Viewer, memberId: string, to: MemberStatus, reason: string): Promise<MemberEntity> {
    const why = requiredText(reason, 'reason', 500);
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId, { allowClosed: true });
      if (!canChangeStatus(viewer, member, to)) throw forbidden('Members can only close their own membership');
      assertStatusTransition(member.status, to);
      const now = this.clock.now();
      await tx.getRepository(MemberStatusChangeEntity).insert({
        memberId,
        fromStatus: member.status,
        toStatus: to,
        reason: why,
        changedBy: viewer.subject,
        changedAt: now,
      });
      // Others (the ledger: no earning or spending unless ACTIVE) follow the status by this event.
      await emit(tx, membersEvents, [{ type: 'MemberStatusChanged', payload: { programId: member.programId, memberId, fromStatus: member.status, toStatus: to, reason: why, changedAt: now.toISOString() } }], now);
      Object.assign(member, { status: to, statusReason: to === 'ACTIVE' ? null : why, updatedAt: now });
      return tx.getRepository(MemberEntity).save(member);
    });
  }

  /**
   * An agent sets the tier by hand. It binds automatic changes as the program's manualMode says
   * (a floor, or an override) until `until`, or until changed again; null removes the tier.
   */
  async assignTier(viewer: Viewer, memberId: string, tierId: string | null, reason: string, until: Date | null = null): Promise<MemberEntity> {
    const why = requiredText(reason, 'reason', 500);
    if (until && until <= this.clock.now()) throw new InputError('until must be in the future', 'until');
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      if (!canAssignTier(viewer, member)) throw forbidden('Members cannot set their own tier');
      if (member.status === 'CLOSED') throw new DomainError('MEMBER_CLOSED', 'The membership is closed', 'memberId');
      if (tierId !== null) {
        const tier = await tx.getRepository(TierEntity).findOneBy({ id: tierId });
        if (!tier || tier.programId !== member.programId) throw new DomainError('TIER_NOT_FOUND', 'No such tier in the member’s program', 'tierId');
      }
      const pinning = member.tierId === tierId;
      // Pinning the tier the member has (a floor or an override from now on) is a change; repeating the same assignment is not.
      if (pinning && member.manualTierId === tierId && (member.manualUntil?.getTime() ?? null) === (until?.getTime() ?? null)) {
        throw new DomainError('TIER_UNCHANGED', 'The member already has this tier, assigned the same way', 'tierId');
      }
      const now = this.clock.now();
      await recordTierChange(tx, {
        programId: member.programId,
        memberId,
        fromTierId: member.tierId,
        toTierId: tierId,
        reason: 'MANUAL',
        text: why,
        changedBy: viewer.subject,
        at: now,
        // The tier itself did not move: history, but no TierChanged for others to react to.
        announce: !pinning,
      });
      Object.assign(member, { tierId, manualTierId: tierId, manualUntil: tierId ? until : null, downgradeDueAt: null, updatedAt: now });
      return tx.getRepository(MemberEntity).save(member);
    });
  }

  async setConsents(viewer: Viewer, memberId: string, consents: ConsentInput[], source: ConsentSource): Promise<MemberEntity> {
    if (consents.length === 0) throw new InputError('Give at least one consent decision', 'consents');
    assertDistinctConsents(consents);
    assertConsentSource(viewer, source);
    return this.inTransaction(async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      await this.writeConsents(tx, viewer, memberId, consents, source, this.clock.now());
      return member;
    });
  }

  /**
   * Records consent decisions. Only decisions that change something are written, so the history
   * is a record of changes, not of form submissions. The member row is locked by the caller, so
   * the current decisions read here cannot change underneath.
   */
  private async writeConsents(tx: EntityManager, viewer: Viewer, memberId: string, consents: ConsentInput[], source: ConsentSource, now: Date) {
    assertDistinctConsents(consents);
    const current = new Map((await tx.getRepository(ConsentEntity).findBy({ memberId })).map((c) => [`${c.channel}/${c.purpose}`, c.granted]));
    const changed = consents.filter((c) => current.get(`${c.channel}/${c.purpose}`) !== c.granted);
    if (changed.length === 0) return;
    await tx.getRepository(ConsentEntity).upsert(
      changed.map((c) => ({ memberId, channel: c.channel, purpose: c.purpose, granted: c.granted, source, updatedAt: now })),
      ['memberId', 'channel', 'purpose'],
    );
    await tx.getRepository(ConsentChangeEntity).insert(
      changed.map((c) => ({ memberId, channel: c.channel, purpose: c.purpose, granted: c.granted, source, changedBy: viewer.subject, changedAt: now })),
    );
  }

  private validateIdentifiers(identifiers: IdentifierInput[]): IdentifierInput[] {
    if (identifiers.length === 0) throw new InputError('Give at least one identifier (card, email or phone)', 'identifiers');
    if (identifiers.length > MAX_IDENTIFIERS) throw new InputError(`At most ${MAX_IDENTIFIERS} identifiers`, 'identifiers');
    const normalized = identifiers.map((identifier, i) => ({
      type: identifier.type,
      value: normalizeIdentifier(identifier.type, identifier.value, `identifiers.${i}.value`),
    }));
    const keys = normalized.map((i) => `${i.type}:${i.value}`);
    const duplicate = keys.findIndex((key, i) => keys.indexOf(key) !== i);
    if (duplicate >= 0) throw new InputError('The same identifier is given twice', `identifiers.${duplicate}.value`);
    return normalized;
  }

  /** New members start in the lowest tier with no threshold, if the program has one. */
  private async entryTierId(tx: EntityManager, programId: string): Promise<string | null> {
    const entry = await tx.getRepository(TierEntity).findOne({ where: { programId, qualifyingThreshold: 0 }, order: { rank: 'ASC' } });
    return entry?.id ?? null;
  }

  /**
   * Locks the member row for the rest of the transaction and checks the viewer may edit it. A
   * closed membership is final: only its status history may still be read, nothing edited.
   */
  private async lockForEdit(tx: EntityManager, viewer: Viewer, memberId: string, options: { allowClosed?: boolean } = {}): Promise<MemberEntity> {
    const member = await tx.getRepository(MemberEntity).findOne({ where: { id: memberId }, lock: { mode: 'pessimistic_write' } });
    if (!member) throw new DomainError('MEMBER_NOT_FOUND', 'No such member', 'memberId');
    if (!canEditMember(viewer, member)) throw forbidden('You cannot change this member');
    if (member.status === 'CLOSED' && !options.allowClosed) throw new DomainError('MEMBER_CLOSED', 'The membership is closed', 'memberId');
    return member;
  }

  /**
   * Runs a change in one transaction. A taken identifier surfaces as a unique violation from the
   * database (the only check that is safe under concurrent enrolments) and becomes a user error.
   */
  private async inTransaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error, 'member_identifiers_unique')) {
        throw new DomainError('IDENTIFIER_TAKEN', 'This identifier already belongs to a member of the program', 'identifiers');
      }
      if (isUniqueViolation(error, 'members_program_id_subject_key')) {
        throw new DomainError('ALREADY_ENROLLED', 'You are already a member of this program');
      }
      throw error;
    }
  }
}
