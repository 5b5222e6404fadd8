import { DomainError, InputError } from '@loyalty-graph/shared';
import { checkText, checkUuid, LIMITS } from './limits';
import type { PartnerStatus } from './partners';

export type OfferKind = 'OFFER' | 'PRESALE';
export type OfferStatus = 'DRAFT' | 'PUBLISHED' | 'WITHDRAWN';
/** Where a shown offer stands: usable now, a pre-sale that opens at validFrom, or over but still shown (visibleUntil after validUntil). */
export type OfferAvailability = 'VALID_NOW' | 'NOT_YET_VALID' | 'ENDED';

export interface OfferWindows {
  validFrom: Date;
  validUntil: Date;
  visibleFrom: Date;
  visibleUntil: Date;
}

/** What relevance needs of an offer. */
export interface OfferFacts extends OfferWindows {
  programId: string;
  partnerId: string | null;
  kind: OfferKind;
  status: OfferStatus;
  tierIds: readonly string[];
  segmentIds: readonly string[];
}

/** What relevance needs of a member: the member snapshot the partners subgraph keeps. */
export interface MemberFacts {
  id: string;
  programId: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
  tierId: string | null;
  partnerMarketing: boolean;
}

/**
 * The segments hook: whether the member is in at least one of `segmentIds`. Membership comes from
 * analytics' SegmentMembershipChanged events, kept in partners' `segment_memberships`
 * (`segmentsOf`). 'NOT_KNOWN' (the default, when no answer was given) hides the offer: showing it
 * to everyone instead would hand a targeted offer (a pre-sale for a few) to the whole program.
 */
export type SegmentMembership = (segmentIds: readonly string[], member: MemberFacts) => boolean | 'NOT_KNOWN';
export const SEGMENTS_NOT_KNOWN_YET: SegmentMembership = () => 'NOT_KNOWN';

/**
 * Membership from the segments the member is known to be in (latest event per segment says
 * member: true). A member analytics never told partners about is in no segment: the answer lags
 * analytics by the event lag, and until the first event the offer is hidden from them.
 */
export function segmentsOf(memberSegmentIds: readonly string[]): SegmentMembership {
  return (segmentIds) => segmentIds.some((id) => memberSegmentIds.includes(id));
}

/** A member's current assignment (from ExperimentVariantAssigned) to an experiment whose variant names an offer. */
export interface OfferAssignment {
  holdout: boolean;
  startsAt: Date;
  endsAt: Date | null;
}

/**
 * What experiments say about one offer for one member. `targeted`: some ExperimentVariantAssigned
 * of the offer's program ever named the offer in its offerIds (then the offer belongs to
 * experiments, for good). `assignments`: the member's latest assignment in each experiment of
 * the offer's program whose variant names it.
 */
export interface OfferExperiments {
  targeted: boolean;
  assignments: readonly OfferAssignment[];
}
export const NOT_IN_EXPERIMENTS: OfferExperiments = { targeted: false, assignments: [] };

/**
 * Whether experiments let the member see the offer at `now`. An offer no experiment ever named:
 * yes (as before experiments). A named one: only through an assignment in force that names it,
 * i.e. not in the holdout (the holdout gets the control's treatment: no experiment offers), started
 * (startsAt <= now) and not ended (endsAt null or after now). So after the experiment ends, or for
 * members never assigned, it is hidden; the offer's other rules still apply on top.
 */
export function experimentAllows(experiments: OfferExperiments, now: Date): boolean {
  if (!experiments.targeted) return true;
  return experiments.assignments.some((a) => !a.holdout && a.startsAt <= now && (a.endsAt === null || now < a.endsAt));
}

/**
 * Whether `member` is shown `offer` at `now`, and as what; null when not shown. Shown when:
 * published; now inside the visibility window; the member ACTIVE in the offer's program; a
 * partner's offer only while the partner is ACTIVE and only to members who consented to partner
 * marketing (PARTNER_MARKETING). The program's own offers need no consent: they are shown in the
 * member's own app, not pushed to them (MARKETING governs what the program sends). Tiers: none
 * listed means every tier; else the member's tier must be listed (a member with no tier matches
 * only offers for every tier). Segments: none listed means everyone; else the member must be in
 * one (SegmentMembership). Experiments: see experimentAllows.
 */
export function offerRelevance(
  offer: OfferFacts,
  member: MemberFacts,
  partnerStatus: PartnerStatus | null,
  now: Date,
  segments: SegmentMembership = SEGMENTS_NOT_KNOWN_YET,
  experiments: OfferExperiments = NOT_IN_EXPERIMENTS,
): OfferAvailability | null {
  if (offer.status !== 'PUBLISHED') return null;
  if (now < offer.visibleFrom || now >= offer.visibleUntil) return null;
  if (member.status !== 'ACTIVE' || member.programId !== offer.programId) return null;
  if (offer.partnerId !== null && (partnerStatus !== 'ACTIVE' || !member.partnerMarketing)) return null;
  if (offer.tierIds.length > 0 && (member.tierId === null || !offer.tierIds.includes(member.tierId))) return null;
  if (offer.segmentIds.length > 0 && segments(offer.segmentIds, member) !== true) return null;
  if (!experimentAllows(experiments, now)) return null;
  return now < offer.validFrom ? 'NOT_YET_VALID' : now < offer.validUntil ? 'VALID_NOW' : 'ENDED';
}

/** An offer shown to a member, for ordering and paging. */
export interface ShownOffer {
  offer: { id: string; validUntil: Date };
  availability: OfferAvailability;
}

const RANK: Record<OfferAvailability, number> = { VALID_NOW: 0, NOT_YET_VALID: 1, ENDED: 2 };

/** The keyset of a shown offer in the member's list: usable now first, then pre-sales, then ended ones; within each, ending soonest first; then id. */
export function shownOfferKey(shown: ShownOffer): [number, number, string] {
  return [RANK[shown.availability], shown.offer.validUntil.getTime(), shown.offer.id];
}

function compareKeys(a: readonly [number, number, string], b: readonly [number, number, string]): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/**
 * The member's list in its order, from after `after` (the keyset of the last one the caller saw;
 * an offer withdrawn between pages does not move the others), at most `limit + 1` (the extra one
 * only says another page exists).
 */
export function pageOfShown<T extends ShownOffer>(shown: readonly T[], after: readonly [number, number, string] | null, limit: number): T[] {
  return [...shown]
    .sort((a, b) => compareKeys(shownOfferKey(a), shownOfferKey(b)))
    .filter((s) => !after || compareKeys(shownOfferKey(s), after) > 0)
    .slice(0, limit + 1);
}

/**
 * The windows of a new or changed offer. Visibility defaults to validity and must cover it:
 * visible from validFrom or earlier (a pre-sale is seen before it opens, and must be: a PRESALE
 * visible only from validFrom is an ordinary offer), until validUntil or later (shown as ENDED
 * after validUntil, e.g. "sold out, thank you").
 */
export function checkWindows(
  kind: OfferKind,
  input: { validFrom: Date; validUntil: Date; visibleFrom?: Date | null; visibleUntil?: Date | null },
  now: Date,
): OfferWindows {
  const { validFrom, validUntil } = input;
  const visibleFrom = input.visibleFrom ?? validFrom;
  const visibleUntil = input.visibleUntil ?? validUntil;
  if (validUntil <= validFrom) throw new InputError('validUntil must be after validFrom', 'validUntil');
  if (validUntil <= now) throw new InputError('validUntil must be in the future', 'validUntil');
  if (validUntil.getTime() - now.getTime() > LIMITS.dateRangeDays * 86_400_000) throw new InputError(`validUntil must be within ${LIMITS.dateRangeDays.toLocaleString('en-US')} days of now`, 'validUntil');
  if (visibleFrom > validFrom) throw new InputError('visibleFrom must be at or before validFrom: visibility covers validity', 'visibleFrom');
  if (visibleUntil < validUntil) throw new InputError('visibleUntil must be at or after validUntil: visibility covers validity', 'visibleUntil');
  if (visibleUntil.getTime() - now.getTime() > LIMITS.dateRangeDays * 86_400_000) throw new InputError(`visibleUntil must be within ${LIMITS.dateRangeDays.toLocaleString('en-US')} days of now`, 'visibleUntil');
  if (kind === 'PRESALE' && visibleFrom >= validFrom) throw new InputError('A PRESALE is visible before it is valid: visibleFrom must be before validFrom', 'visibleFrom');
  return { validFrom, validUntil, visibleFrom, visibleUntil };
}

/** Tier or segment ids: UUIDs, each once, at most LIMITS.offerTargets. Not checked against members' tiers: an unknown id matches nobody. */
export function checkTargets(ids: readonly string[] | null | undefined, field: string): string[] {
  const list = (ids ?? []).map((id, i) => checkUuid(id, `${field}.${i}`));
  if (list.length > LIMITS.offerTargets) throw new InputError(`${field} may list at most ${LIMITS.offerTargets}`, field);
  const twice = list.findIndex((id, i) => list.indexOf(id) !== i);
  if (twice >= 0) throw new InputError(`${list[twice]} is listed twice`, `${field}.${twice}`);
  return list;
}

export function checkOfferTexts(input: { title: string; description: string }): { title: string; description: string } {
  return { title: checkText(input.title, 'title', LIMITS.offerTitleLength), description: checkText(input.description, 'description', LIMITS.offerDescriptionLength) };
}

/**
 * Drafts are edited and published; a published offer is only withdrawn; withdrawn is final.
 * Asking for the state an offer is already in changes nothing and is no error ('UNCHANGED'), so a
 * retried publish or withdrawal answers like the first (as revoking an API client twice does).
 */
export function offerTransition(from: OfferStatus, to: 'EDIT' | 'PUBLISHED' | 'WITHDRAWN'): 'APPLY' | 'UNCHANGED' {
  if (to === 'EDIT') {
    if (from !== 'DRAFT') throw new DomainError('OFFER_NOT_DRAFT', 'Only a draft offer can be changed: withdraw it and create a new one', 'offerId');
    return 'APPLY';
  }
  if (from === to) return 'UNCHANGED';
  if (from === 'WITHDRAWN') throw new DomainError('OFFER_WITHDRAWN', 'The offer is withdrawn, for good: create a new one', 'offerId');
  return 'APPLY';
}
