import { describe, expect, it } from 'vitest';
import { offerTransition, checkTargets, checkWindows, experimentAllows, offerRelevance, pageOfShown, segmentsOf, shownOfferKey, type MemberFacts, type OfferFacts, type ShownOffer } from './offers';

const NOW = new Date('2026-06-10T12:00:00Z');
const at = (iso: string) => new Date(iso);
const [program, otherProgram, partner, gold, silver] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444', '55555555-5555-4555-8555-555555555555'];

const offer = (over: Partial<OfferFacts> = {}): OfferFacts => ({
  programId: program,
  partnerId: partner,
  kind: 'OFFER',
  status: 'PUBLISHED',
  tierIds: [],
  segmentIds: [],
  validFrom: at('2026-06-01T00:00:00Z'),
  validUntil: at('2026-07-01T00:00:00Z'),
  visibleFrom: at('2026-06-01T00:00:00Z'),
  visibleUntil: at('2026-07-01T00:00:00Z'),
  ...over,
});
const member = (over: Partial<MemberFacts> = {}): MemberFacts => ({ id: 'm', programId: program, status: 'ACTIVE', tierId: gold, partnerMarketing: true, ...over });

describe('which offers a member is shown', () => {
  it('shows a published partner offer inside its windows to a consenting active member of the program', () => {
    expect(offerRelevance(offer(), member(), 'ACTIVE', NOW)).toBe('VALID_NOW');
  });

  it('hides drafts and withdrawn offers', () => {
    expect(offerRelevance(offer({ status: 'DRAFT' }), member(), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer({ status: 'WITHDRAWN' }), member(), 'ACTIVE', NOW)).toBeNull();
  });

  it('shows a pre-sale before it is valid, as not yet valid, and as valid from validFrom', () => {
    const presale = offer({ kind: 'PRESALE', visibleFrom: at('2026-06-05T00:00:00Z'), validFrom: at('2026-06-15T00:00:00Z') });
    expect(offerRelevance(presale, member(), 'ACTIVE', at('2026-06-04T23:59:59Z'))).toBeNull();
    expect(offerRelevance(presale, member(), 'ACTIVE', NOW)).toBe('NOT_YET_VALID');
    expect(offerRelevance(presale, member(), 'ACTIVE', at('2026-06-15T00:00:00Z'))).toBe('VALID_NOW');
  });

  it('stops at visibleUntil; between validUntil and a later visibleUntil it is shown as ended', () => {
    const lingering = offer({ visibleUntil: at('2026-07-03T00:00:00Z') });
    expect(offerRelevance(lingering, member(), 'ACTIVE', at('2026-07-02T00:00:00Z'))).toBe('ENDED');
    expect(offerRelevance(lingering, member(), 'ACTIVE', at('2026-07-03T00:00:00Z'))).toBeNull();
    expect(offerRelevance(offer(), member(), 'ACTIVE', at('2026-07-01T00:00:00Z'))).toBeNull();
  });

  it('targets tiers: none listed is every tier; a member without a tier sees only those', () => {
    expect(offerRelevance(offer({ tierIds: [gold] }), member(), 'ACTIVE', NOW)).toBe('VALID_NOW');
    expect(offerRelevance(offer({ tierIds: [silver] }), member(), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer({ tierIds: [gold] }), member({ tierId: null }), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer(), member({ tierId: null }), 'ACTIVE', NOW)).toBe('VALID_NOW');
  });

  it('needs partner-marketing consent for a partner’s offer, not for the program’s own', () => {
    expect(offerRelevance(offer(), member({ partnerMarketing: false }), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer({ partnerId: null }), member({ partnerMarketing: false }), null, NOW)).toBe('VALID_NOW');
  });

  it('hides a partner’s offers while the partner is not ACTIVE', () => {
    expect(offerRelevance(offer(), member(), 'SUSPENDED', NOW)).toBeNull();
    expect(offerRelevance(offer(), member(), 'ENDED', NOW)).toBeNull();
  });

  it('shows nothing to members who are not ACTIVE or belong to another program', () => {
    expect(offerRelevance(offer(), member({ status: 'SUSPENDED' }), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer(), member({ status: 'CLOSED' }), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(offer(), member({ programId: otherProgram }), 'ACTIVE', NOW)).toBeNull();
  });

  it('hides segment-targeted offers until segment membership is known, and follows the hook once it is', () => {
    const targeted = offer({ segmentIds: [silver] });
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW)).toBeNull();
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW, () => true)).toBe('VALID_NOW');
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW, () => false)).toBeNull();
  });

  it('shows a segment offer to a member known to be in one of its segments, and to nobody else', () => {
    const targeted = offer({ segmentIds: [silver, gold] });
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW, segmentsOf([gold]))).toBe('VALID_NOW');
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW, segmentsOf([]))).toBeNull();
    expect(offerRelevance(targeted, member(), 'ACTIVE', NOW, segmentsOf([partner]))).toBeNull();
    // An offer for everyone does not ask about segments.
    expect(offerRelevance(offer(), member(), 'ACTIVE', NOW, segmentsOf([]))).toBe('VALID_NOW');
  });
});

describe('offers in experiments', () => {
  const running = { holdout: false, startsAt: at('2026-06-01T00:00:00Z'), endsAt: at('2026-06-20T00:00:00Z') };

  it('leaves an offer no experiment named as it was', () => {
    expect(experimentAllows({ targeted: false, assignments: [] }, NOW)).toBe(true);
  });

  it('shows a named offer only through an assignment in force that names it', () => {
    expect(experimentAllows({ targeted: true, assignments: [] }, NOW)).toBe(false);
    expect(experimentAllows({ targeted: true, assignments: [running] }, NOW)).toBe(true);
    expect(experimentAllows({ targeted: true, assignments: [{ ...running, endsAt: null }] }, NOW)).toBe(true);
  });

  it('hides it from the holdout, before the assignment starts and from its end on', () => {
    expect(experimentAllows({ targeted: true, assignments: [{ ...running, holdout: true }] }, NOW)).toBe(false);
    expect(experimentAllows({ targeted: true, assignments: [{ ...running, startsAt: at('2026-06-11T00:00:00Z') }] }, NOW)).toBe(false);
    expect(experimentAllows({ targeted: true, assignments: [{ ...running, endsAt: NOW }] }, NOW)).toBe(false);
    // One assignment in force among ended ones is enough.
    expect(experimentAllows({ targeted: true, assignments: [{ ...running, endsAt: NOW }, running] }, NOW)).toBe(true);
  });

  it('applies on top of the offer’s other rules', () => {
    const experiments = { targeted: true, assignments: [running] };
    expect(offerRelevance(offer(), member(), 'ACTIVE', NOW, undefined, experiments)).toBe('VALID_NOW');
    expect(offerRelevance(offer(), member({ partnerMarketing: false }), 'ACTIVE', NOW, undefined, experiments)).toBeNull();
    expect(offerRelevance(offer(), member(), 'ACTIVE', NOW, undefined, { targeted: true, assignments: [] })).toBeNull();
  });
});

describe('offer windows', () => {
  const valid = { validFrom: at('2026-06-15T00:00:00Z'), validUntil: at('2026-07-01T00:00:00Z') };

  it('makes visibility the validity when absent', () => {
    expect(checkWindows('OFFER', valid, NOW)).toEqual({ ...valid, visibleFrom: valid.validFrom, visibleUntil: valid.validUntil });
  });

  it('lets visibility start earlier and end later, never inside validity', () => {
    expect(checkWindows('PRESALE', { ...valid, visibleFrom: NOW }, NOW).visibleFrom).toEqual(NOW);
    expect(() => checkWindows('OFFER', { ...valid, visibleFrom: at('2026-06-16T00:00:00Z') }, NOW)).toThrow(/visibleFrom/);
    expect(() => checkWindows('OFFER', { ...valid, visibleUntil: at('2026-06-30T00:00:00Z') }, NOW)).toThrow(/visibleUntil/);
  });

  it('requires a pre-sale to be visible before it is valid', () => {
    expect(() => checkWindows('PRESALE', valid, NOW)).toThrow(/PRESALE/);
  });

  it('refuses validity that ends before it starts, has already ended, or lies beyond the date range', () => {
    expect(() => checkWindows('OFFER', { validFrom: valid.validUntil, validUntil: valid.validFrom }, NOW)).toThrow(/after validFrom/);
    expect(() => checkWindows('OFFER', { validFrom: at('2026-05-01T00:00:00Z'), validUntil: at('2026-06-01T00:00:00Z') }, NOW)).toThrow(/future/);
    expect(() => checkWindows('OFFER', { validFrom: NOW, validUntil: at('2040-01-01T00:00:00Z') }, NOW)).toThrow(/3,650 days/);
  });
});

describe('offer targets and transitions', () => {
  it('takes up to 20 distinct UUIDs', () => {
    expect(checkTargets([gold.toUpperCase()], 'tierIds')).toEqual([gold]);
    expect(() => checkTargets([gold, gold], 'tierIds')).toThrow(/twice/);
    expect(() => checkTargets(['gold'], 'tierIds')).toThrow(/UUID/);
    expect(() => checkTargets(Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`), 'tierIds')).toThrow(/at most 20/);
  });

  it('edits drafts only, publishes drafts, withdraws drafts and published offers; a repeat changes nothing; withdrawn is final', () => {
    expect(offerTransition('DRAFT', 'EDIT')).toBe('APPLY');
    expect(() => offerTransition('PUBLISHED', 'EDIT')).toThrow(/draft/);
    expect(offerTransition('DRAFT', 'PUBLISHED')).toBe('APPLY');
    expect(offerTransition('PUBLISHED', 'PUBLISHED')).toBe('UNCHANGED');
    expect(() => offerTransition('WITHDRAWN', 'PUBLISHED')).toThrow(/for good/);
    expect(offerTransition('DRAFT', 'WITHDRAWN')).toBe('APPLY');
    expect(offerTransition('PUBLISHED', 'WITHDRAWN')).toBe('APPLY');
    expect(offerTransition('WITHDRAWN', 'WITHDRAWN')).toBe('UNCHANGED');
  });
});

describe('the order and pages of a member’s offers', () => {
  const shown = (id: string, availability: ShownOffer['availability'], until: string): ShownOffer => ({ offer: { id, validUntil: at(until) }, availability });
  const list = [
    shown('e', 'ENDED', '2026-06-09T00:00:00Z'),
    shown('p', 'NOT_YET_VALID', '2026-06-20T00:00:00Z'),
    shown('b', 'VALID_NOW', '2026-06-30T00:00:00Z'),
    shown('a', 'VALID_NOW', '2026-06-30T00:00:00Z'),
    shown('c', 'VALID_NOW', '2026-06-15T00:00:00Z'),
  ];

  it('puts usable offers first (ending soonest first, then by id), then pre-sales, then ended ones', () => {
    expect(pageOfShown(list, null, 10).map((s) => s.offer.id)).toEqual(['c', 'a', 'b', 'p', 'e']);
  });

  it('pages from after the last one seen, one extra to tell another page exists, even when that one has gone since', () => {
    const first = pageOfShown(list, null, 2);
    expect(first.map((s) => s.offer.id)).toEqual(['c', 'a', 'b']);
    const after = shownOfferKey(first[1]!);
    expect(pageOfShown(list, after, 2).map((s) => s.offer.id)).toEqual(['b', 'p', 'e']);
    // 'a' withdrawn between pages: the next page still starts right after it.
    expect(pageOfShown(list.filter((s) => s.offer.id !== 'a'), after, 2).map((s) => s.offer.id)).toEqual(['b', 'p', 'e']);
  });
});
