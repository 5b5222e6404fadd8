import { DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { isUniqueViolation } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import type { ConsentSource } from '../entities/consent';
import { MemberEntity, type MemberStatus } from '../entities/member';
import { IdentifierVerificationEntity } from '../entities/identifier-verification';
import { MemberIdentifierEntity } from '../entities/member-identifier';
import { MemberStatusChangeEntity } from '../entities/member-status-change';
import { TierEntity } from '../entities/tier';
import { MAX_IDENTIFIERS, normalizeIdentifier, type IdentifierInput } from '../domain/identifiers';
import { checkDateRange } from '../domain/limits';
import { assertStatusTransition } from '../domain/member-status';
import { canAssignTier, canChangeStatus, canEditMember, isSelf } from '../domain/policy';
import { sharedProfileChange, validateProfile, type ProfileInput, type SharedProfile } from '../domain/profile';
import { requiredText } from '../domain/text';
import { assertConsentSource, assertDistinctConsents, writeConsents, type ConsentInput } from './consents';
import { confirmVerification, requestVerification } from './identifier-verification';
import { recordTierChange } from './tier-changes';

/** Everything that changes a member after enrolment (services/enrolment.ts). Every change is one transaction. */
export class MemberService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async updateProfile(viewer: Viewer, memberId: string, input: ProfileInput): Promise<MemberEntity> {
    const changes = validateProfile(input, this.clock.now());
    return inMemberTransaction(this.db, async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      const before = { birthDate: member.birthDate, preferredLanguage: member.preferredLanguage };
      const now = this.clock.now();
      Object.assign(member, changes, { updatedAt: now });
      await announceProfile(tx, member, before, now);
      return tx.getRepository(MemberEntity).save(member);
    });
  }

  /**
   * Staff add an identifier as verified: they see the member's card or ID at the desk, and they
   * can look up any member of their program anyway, so IDENTIFIER_TAKEN tells them nothing new.
   * A member adding one themself asks for a code instead (services/identifier-verification.ts),
   * and is answered the same whether or not someone else holds it.
   */
  async addIdentifier(viewer: Viewer, memberId: string, input: IdentifierInput): Promise<MemberEntity> {
    const value = normalizeIdentifier(input.type, input.value, 'identifier.value');
    return inMemberTransaction(this.db, async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      const now = this.clock.now();
      if (isSelf(viewer, member)) {
        await requestVerification(tx, member, { type: input.type, value }, now);
        return member;
      }
      const count = await tx.getRepository(MemberIdentifierEntity).countBy({ memberId });
      if (count >= MAX_IDENTIFIERS) throw new DomainError('TOO_MANY_IDENTIFIERS', `A member has at most ${MAX_IDENTIFIERS} identifiers`, 'identifier');
      await tx.getRepository(MemberIdentifierEntity).insert({ memberId, programId: member.programId, type: input.type, value, addedAt: now });
      // A code the member was waiting for is no longer needed.
      await tx.getRepository(IdentifierVerificationEntity).delete({ memberId, type: input.type, value });
      return member;
    });
  }

  /** The member confirms an identifier they added with the code sent to it; it then finds them at the till. */
  async verifyIdentifier(viewer: Viewer, memberId: string, input: IdentifierInput, code: string): Promise<MemberEntity> {
    const value = normalizeIdentifier(input.type, input.value, 'identifier.value');
    if (!/^\s*\d{6}\s*$/.test(code)) throw new InputError('The code is the six digits sent to the identifier', 'code');
    const { member, failure } = await inMemberTransaction(this.db, async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      return { member, failure: await confirmVerification(tx, member, { type: input.type, value }, code, this.clock.now()) };
    });
    // After the commit: a wrong code has counted against the tries.
    if (failure) throw failure;
    return member;
  }

  async removeIdentifier(viewer: Viewer, memberId: string, input: IdentifierInput): Promise<MemberEntity> {
    const value = normalizeIdentifier(input.type, input.value, 'identifier.value');
    return inMemberTransaction(this.db, async (tx) => {
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
    return inMemberTransaction(this.db, async (tx) => {
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
    // null binds until changed; a date binds until then, and year 9999 is not a date anyone meant.
    if (until) checkDateRange(until, this.clock.now(), 'until', true);
    return inMemberTransaction(this.db, async (tx) => {
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
    return inMemberTransaction(this.db, async (tx) => {
      const member = await this.lockForEdit(tx, viewer, memberId);
      await writeConsents(tx, viewer, member, consents, source, this.clock.now());
      return member;
    });
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
}

/**
 * Tells others (analytics' segments) a member's birth date or preferred language changed, in the
 * change's transaction (the outbox); `before` is null at enrolment. Nothing when neither changed.
 */
export async function announceProfile(tx: EntityManager, member: MemberEntity, before: SharedProfile | null, now: Date): Promise<void> {
  const shared = sharedProfileChange(before, { birthDate: member.birthDate, preferredLanguage: member.preferredLanguage });
  if (!shared) return;
  await emit(tx, membersEvents, [{ type: 'MemberProfileChanged', payload: { programId: member.programId, memberId: member.id, ...shared, changedAt: now.toISOString() } }], now);
}

/**
 * Runs a change in one transaction. A taken identifier surfaces as a unique violation from the
 * database (the only check that is safe under concurrent enrolments) and becomes a user error.
 */
export async function inMemberTransaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(work);
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
