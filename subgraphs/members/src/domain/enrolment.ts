import { DomainError, type Viewer } from '@loyalty-graph/shared';
import type { EnrolmentChannel } from '../entities/member';
import type { IdentifierType } from '../entities/member-identifier';
import type { ConsentSource } from '../entities/consent';
import { assertSelfServiceType } from './identifier-verification';

/**
 * Who enrols decides how far the identifiers given are trusted:
 *
 * - a person enrolling themself (SELF): emails and phones only, each pending until confirmed with
 *   the code sent to it; a card needs staff (CARD_NEEDS_STAFF);
 * - the program's staff (AGENT): every identifier recorded verified at once (they see the card or
 *   an ID at the desk, and may look any member of their program up anyway);
 * - a partner's till (PARTNER): the card it issued is recorded at once (it has the card in hand,
 *   and a card can receive no code), but an email or phone its cashier typed is only a claim, so
 *   it waits for the member's code like a self-enrolment's: a typo, or someone else's address,
 *   never finds the wrong person at a till, and the partner never learns whether it is taken.
 *   At least one card is required (CARD_REQUIRED): the card's uniqueness is what makes a till's
 *   retry after a timeout fail cleanly (IDENTIFIER_TAKEN) instead of enrolling the person twice.
 */
export function enrolmentChannel(viewer: Viewer): EnrolmentChannel {
  if (viewer.kind === 'MEMBER') return 'SELF';
  if (viewer.kind === 'PARTNER') return 'PARTNER';
  return 'AGENT';
}

/** Whether an identifier given at enrolment through `channel` is recorded verified (else a code is sent to it). */
export function verifiedAtEnrolment(channel: EnrolmentChannel, type: IdentifierType): boolean {
  if (channel === 'AGENT') return true;
  if (channel === 'PARTNER') return type === 'CARD';
  return false;
}

/** Checks the identifiers' types for the channel before anything is written. */
export function assertEnrolmentIdentifiers(channel: EnrolmentChannel, types: readonly IdentifierType[]): void {
  if (channel === 'SELF') types.forEach((type, i) => assertSelfServiceType(type, `identifiers.${i}.type`));
  if (channel === 'PARTNER' && !types.includes('CARD')) {
    throw new DomainError('CARD_REQUIRED', 'A partner enrols a member with the card it issued at its till (emails and phones are confirmed by the member later)', 'identifiers');
  }
}

/** Consents given while enrolling at a partner's till are recorded as given there. */
export function enrolmentConsentSource(channel: EnrolmentChannel): ConsentSource {
  return channel === 'PARTNER' ? 'PARTNER' : 'ENROLMENT';
}

/** What a partner may know of a member it enrolled or looked up: enough to credit them, nothing to contact or profile them with. */
export interface PartnerMemberView {
  memberId: string;
  canEarn: boolean;
  tierName: string | null;
}

export function partnerMemberView(member: { id: string; status: string }, tierName: string | null): PartnerMemberView {
  return { memberId: member.id, canEarn: member.status === 'ACTIVE', tierName };
}
