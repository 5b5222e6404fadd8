import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '@loyalty-graph/testing/errors';
import {
  DEFAULT_TIER_RULES,
  atGraceEnd,
  atPeriodEnd,
  manualApplies,
  onPointsChanged,
  periodAt,
  qualifiedTier,
  tierProgress,
  validateTierRules,
  type LadderTier,
  type MemberTierState,
  type TierRules,
} from './tier-qualification';

const d = (iso: string) => new Date(iso);

const bronze: LadderTier = { id: 'bronze', rank: 1, qualifyingThreshold: 0 };
const silver: LadderTier = { id: 'silver', rank: 2, qualifyingThreshold: 1000 };
const gold: LadderTier = { id: 'gold', rank: 3, qualifyingThreshold: 5000 };
// Shuffled on purpose: nothing may rely on the ladder's order.
const ladder = [gold, bronze, silver];

/** Calendar-year periods from 2026-01-01, downgrade at once to what the points support. */
const rules: TierRules = { ...DEFAULT_TIER_RULES, periodAnchor: d('2026-01-01T00:00:00Z') };
const withGrace: TierRules = { ...rules, graceDays: 30 };

function member(tierId: string | null, more: Partial<MemberTierState> = {}): MemberTierState {
  return { tierId, manualTierId: null, manualUntil: null, downgradeDueAt: null, ...more };
}

const midYear = d('2026-06-15T12:00:00Z');
const newYear = d('2027-01-01T00:00:00Z');

describe('periodAt', () => {
  it('finds the period holding an instant, start inclusive and end exclusive', () => {
    expect(periodAt(rules, midYear)).toEqual({ start: d('2026-01-01T00:00:00Z'), end: d('2027-01-01T00:00:00Z') });
    expect(periodAt(rules, d('2027-01-01T00:00:00Z')).start).toEqual(d('2027-01-01T00:00:00Z'));
    expect(periodAt(rules, d('2026-12-31T23:59:59.999Z')).end).toEqual(d('2027-01-01T00:00:00Z'));
  });

  it('repeats periods before the anchor', () => {
    expect(periodAt(rules, d('2025-12-31T23:59:59Z'))).toEqual({ start: d('2025-01-01T00:00:00Z'), end: d('2026-01-01T00:00:00Z') });
    const quarters = { periodMonths: 3, periodAnchor: d('2026-02-01T00:00:00Z') };
    expect(periodAt(quarters, d('2024-12-15T00:00:00Z'))).toEqual({ start: d('2024-11-01T00:00:00Z'), end: d('2025-02-01T00:00:00Z') });
  });

  it('handles periods longer than a year and anchors mid-day', () => {
    const twoYears = { periodMonths: 24, periodAnchor: d('2026-04-10T06:00:00Z') };
    expect(periodAt(twoYears, d('2028-04-10T05:59:59Z'))).toEqual({ start: d('2026-04-10T06:00:00Z'), end: d('2028-04-10T06:00:00Z') });
    expect(periodAt(twoYears, d('2028-04-10T06:00:00Z')).start).toEqual(d('2028-04-10T06:00:00Z'));
    expect(periodAt(twoYears, d('2026-04-10T05:00:00Z')).start).toEqual(d('2024-04-10T06:00:00Z'));
  });

  it('clamps a day-31 anchor to short months without drifting', () => {
    const monthly = { periodMonths: 1, periodAnchor: d('2026-01-31T00:00:00Z') };
    expect(periodAt(monthly, d('2026-02-15T00:00:00Z'))).toEqual({ start: d('2026-01-31T00:00:00Z'), end: d('2026-02-28T00:00:00Z') });
    expect(periodAt(monthly, d('2026-03-01T00:00:00Z'))).toEqual({ start: d('2026-02-28T00:00:00Z'), end: d('2026-03-31T00:00:00Z') });
    expect(periodAt(monthly, d('2026-04-30T12:00:00Z')).start).toEqual(d('2026-04-30T00:00:00Z'));
    expect(periodAt(monthly, d('2028-02-29T12:00:00Z')).start).toEqual(d('2028-02-29T00:00:00Z'));
    expect(periodAt(monthly, d('2025-12-31T00:00:00Z')).start).toEqual(d('2025-12-31T00:00:00Z'));
  });
});

describe('qualifiedTier', () => {
  it('is the highest tier the points reach', () => {
    expect(qualifiedTier(ladder, 0)).toBe(bronze);
    expect(qualifiedTier(ladder, 999)).toBe(bronze);
    expect(qualifiedTier(ladder, 1000)).toBe(silver);
    expect(qualifiedTier(ladder, 99_999)).toBe(gold);
  });

  it('is null for an empty ladder or points below every threshold', () => {
    expect(qualifiedTier([], 10_000)).toBeNull();
    expect(qualifiedTier([silver, gold], 999)).toBeNull();
  });
});

describe('manualApplies', () => {
  it('applies without an end, and until manualUntil (exclusive)', () => {
    expect(manualApplies(member('gold', { manualTierId: 'gold' }), midYear)).toBe(true);
    const until = member('gold', { manualTierId: 'gold', manualUntil: d('2026-07-01T00:00:00Z') });
    expect(manualApplies(until, d('2026-06-30T23:59:59Z'))).toBe(true);
    expect(manualApplies(until, d('2026-07-01T00:00:00Z'))).toBe(false);
    expect(manualApplies(member('gold', { manualUntil: d('2030-01-01T00:00:00Z') }), midYear)).toBe(false);
  });
});

describe('onPointsChanged', () => {
  it('moves up at once to the highest tier reached, skipping tiers', () => {
    expect(onPointsChanged(rules, ladder, member('bronze'), 1000, midYear)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'QUALIFIED' });
    expect(onPointsChanged(rules, ladder, member('bronze'), 7000, midYear)).toEqual({ kind: 'CHANGE', toTierId: 'gold', reason: 'QUALIFIED' });
  });

  it('gives a member without a tier the tier they qualify for', () => {
    expect(onPointsChanged(rules, ladder, member(null), 0, midYear)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'QUALIFIED' });
  });

  it('never changes to the same or a lower tier', () => {
    expect(onPointsChanged(rules, ladder, member('silver'), 4999, midYear)).toEqual({ kind: 'NONE' });
    expect(onPointsChanged(rules, ladder, member('gold'), 10, midYear)).toEqual({ kind: 'NONE' });
    expect(onPointsChanged(rules, [], member(null), 10_000, midYear)).toEqual({ kind: 'NONE' });
  });

  it('cancels a scheduled downgrade once the tier is re-earned during the grace', () => {
    const pending = member('gold', { downgradeDueAt: d('2027-01-31T00:00:00Z') });
    const inGrace = d('2027-01-20T00:00:00Z');
    expect(onPointsChanged(withGrace, ladder, pending, 4999, inGrace)).toEqual({ kind: 'NONE' });
    expect(onPointsChanged(withGrace, ladder, pending, 5000, inGrace)).toEqual({ kind: 'CANCEL_DOWNGRADE' });
    // Too late: the grace is over, atGraceEnd applies the downgrade.
    expect(onPointsChanged(withGrace, ladder, pending, 5000, d('2027-01-31T00:00:00Z'))).toEqual({ kind: 'NONE' });
  });

  it('an upgrade during a grace supersedes the scheduled downgrade', () => {
    const pending = member('silver', { downgradeDueAt: d('2027-01-31T00:00:00Z') });
    expect(onPointsChanged(withGrace, ladder, pending, 6000, d('2027-01-10T00:00:00Z'))).toEqual({ kind: 'CHANGE', toTierId: 'gold', reason: 'QUALIFIED' });
  });

  it('with OVERRIDE, an applying manual tier blocks upgrades until it expires', () => {
    const override: TierRules = { ...rules, manualMode: 'OVERRIDE' };
    const manual = member('silver', { manualTierId: 'silver', manualUntil: d('2026-07-01T00:00:00Z') });
    expect(onPointsChanged(override, ladder, manual, 9000, midYear)).toEqual({ kind: 'NONE' });
    expect(onPointsChanged(override, ladder, manual, 9000, d('2026-07-01T00:00:00Z'))).toMatchObject({ kind: 'CHANGE', toTierId: 'gold' });
  });

  it('with FLOOR, upgrades above the manual tier still happen', () => {
    expect(onPointsChanged(rules, ladder, member('silver', { manualTierId: 'silver' }), 9000, midYear)).toMatchObject({ kind: 'CHANGE', toTierId: 'gold' });
  });
});

describe('atPeriodEnd', () => {
  it('TO_QUALIFIED moves down to what the ended period supports', () => {
    expect(atPeriodEnd(rules, ladder, member('gold'), 500, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'PERIOD_END' });
    expect(atPeriodEnd(rules, ladder, member('gold'), 4999, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'PERIOD_END' });
  });

  it('ONE_TIER moves down a single rank whatever the points', () => {
    const oneTier: TierRules = { ...rules, downgrade: 'ONE_TIER' };
    expect(atPeriodEnd(oneTier, ladder, member('gold'), 0, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'PERIOD_END' });
    // The lowest tier, when it needs points, is lost to no tier at all.
    expect(atPeriodEnd(oneTier, [silver, gold], member('silver'), 0, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: null, reason: 'PERIOD_END' });
  });

  it('TO_QUALIFIED drops to no tier when nothing is supported', () => {
    expect(atPeriodEnd(rules, [silver, gold], member('gold'), 200, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: null, reason: 'PERIOD_END' });
  });

  it('keeps a tier whose threshold was met', () => {
    expect(atPeriodEnd(rules, ladder, member('gold'), 5000, 0, newYear)).toEqual({ kind: 'NONE' });
  });

  it('never moves down a member without a tier, or on a threshold-0 lowest tier', () => {
    expect(atPeriodEnd(rules, ladder, member(null), 0, 0, newYear)).toEqual({ kind: 'NONE' });
    expect(atPeriodEnd({ ...rules, downgrade: 'ONE_TIER' }, ladder, member('bronze'), 0, 0, newYear)).toEqual({ kind: 'NONE' });
    expect(atPeriodEnd({ ...rules, downgrade: 'ONE_TIER' }, ladder, member('bronze'), -50, 0, newYear)).toEqual({ kind: 'NONE' });
    expect(atPeriodEnd(rules, [], member(null), 0, 0, newYear)).toEqual({ kind: 'NONE' });
  });

  it('with a grace, schedules the downgrade for period end + graceDays', () => {
    expect(atPeriodEnd(withGrace, ladder, member('gold'), 500, 0, newYear)).toEqual({ kind: 'SCHEDULE_DOWNGRADE', dueAt: d('2027-01-31T00:00:00Z') });
    // A late run still counts the grace from the period boundary, not from now.
    expect(atPeriodEnd(withGrace, ladder, member('gold'), 500, 0, d('2027-01-02T08:00:00Z'))).toEqual({ kind: 'SCHEDULE_DOWNGRADE', dueAt: d('2027-01-31T00:00:00Z') });
    expect(atPeriodEnd(withGrace, ladder, member('gold'), 5000, 0, newYear)).toEqual({ kind: 'NONE' });
  });

  it('does not push back a downgrade already pending from an earlier period', () => {
    const monthlyLongGrace: TierRules = { ...rules, periodMonths: 1, graceDays: 60 };
    const pending = member('gold', { downgradeDueAt: d('2026-04-01T00:00:00Z') });
    expect(atPeriodEnd(monthlyLongGrace, ladder, pending, 100, 0, d('2026-03-01T00:00:00Z'))).toEqual({ kind: 'NONE' });
    // The period that just ended lay inside the grace and re-earned the tier.
    expect(atPeriodEnd(monthlyLongGrace, ladder, pending, 5000, 0, d('2026-03-01T00:00:00Z'))).toEqual({ kind: 'CANCEL_DOWNGRADE' });
  });

  it('with FLOOR, never goes below the manual tier', () => {
    const floorSilver = member('gold', { manualTierId: 'silver' });
    expect(atPeriodEnd(rules, ladder, floorSilver, 0, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'PERIOD_END' });
    expect(atPeriodEnd(withGrace, ladder, floorSilver, 0, 0, newYear)).toMatchObject({ kind: 'SCHEDULE_DOWNGRADE' });
    // The floor is the current tier: nothing to do, nothing scheduled.
    expect(atPeriodEnd(withGrace, ladder, member('gold', { manualTierId: 'gold' }), 0, 0, newYear)).toEqual({ kind: 'NONE' });
    // A floor above the current tier does not turn a downgrade into an upgrade.
    expect(atPeriodEnd(rules, ladder, member('silver', { manualTierId: 'gold' }), 0, 0, newYear)).toEqual({ kind: 'NONE' });
  });

  it('a FLOOR that has expired no longer holds the member up', () => {
    const expired = member('gold', { manualTierId: 'gold', manualUntil: d('2026-12-31T00:00:00Z') });
    expect(atPeriodEnd(rules, ladder, expired, 0, 0, newYear)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'PERIOD_END' });
  });

  it('with OVERRIDE, neither downgrades nor schedules while the manual tier applies', () => {
    const override: TierRules = { ...withGrace, manualMode: 'OVERRIDE' };
    expect(atPeriodEnd(override, ladder, member('gold', { manualTierId: 'gold' }), 0, 0, newYear)).toEqual({ kind: 'NONE' });
    expect(atPeriodEnd({ ...override, graceDays: 0 }, ladder, member('gold', { manualTierId: 'gold' }), 0, 0, newYear)).toEqual({ kind: 'NONE' });
    const expired = member('gold', { manualTierId: 'gold', manualUntil: d('2026-12-01T00:00:00Z') });
    expect(atPeriodEnd(override, ladder, expired, 0, 0, newYear)).toMatchObject({ kind: 'SCHEDULE_DOWNGRADE' });
  });
});

describe('atGraceEnd', () => {
  const due = d('2027-01-31T00:00:00Z');
  const pending = (tierId: string, more: Partial<MemberTierState> = {}) => member(tierId, { downgradeDueAt: due, ...more });

  it('does nothing before the due date or without a scheduled downgrade', () => {
    expect(atGraceEnd(withGrace, ladder, pending('gold'), 0, 0, d('2027-01-30T23:59:59Z'))).toEqual({ kind: 'NONE' });
    expect(atGraceEnd(withGrace, ladder, member('gold'), 0, 0, due)).toEqual({ kind: 'NONE' });
  });

  it('TO_QUALIFIED lands on the best of the ended and the current period', () => {
    expect(atGraceEnd(withGrace, ladder, pending('gold'), 500, 0, due)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'GRACE_ENDED' });
    expect(atGraceEnd(withGrace, ladder, pending('gold'), 500, 1200, due)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'GRACE_ENDED' });
    expect(atGraceEnd(withGrace, ladder, pending('gold'), 1500, 200, due)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'GRACE_ENDED' });
  });

  it('TO_QUALIFIED clears the schedule when the points support the current tier after all', () => {
    expect(atGraceEnd(withGrace, ladder, pending('gold'), 500, 5000, due)).toEqual({ kind: 'CANCEL_DOWNGRADE' });
  });

  it('ONE_TIER goes one below the tier held at that moment', () => {
    const oneTier: TierRules = { ...withGrace, downgrade: 'ONE_TIER' };
    expect(atGraceEnd(oneTier, ladder, pending('gold'), 0, 0, due)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'GRACE_ENDED' });
    expect(atGraceEnd(oneTier, ladder, pending('silver'), 0, 0, due)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'GRACE_ENDED' });
  });

  it('respects a FLOOR and clears the schedule when the floor is the current tier', () => {
    expect(atGraceEnd(withGrace, ladder, pending('gold', { manualTierId: 'silver' }), 0, 0, due)).toEqual({ kind: 'CHANGE', toTierId: 'silver', reason: 'GRACE_ENDED' });
    expect(atGraceEnd(withGrace, ladder, pending('gold', { manualTierId: 'gold' }), 0, 0, due)).toEqual({ kind: 'CANCEL_DOWNGRADE' });
  });

  it('with OVERRIDE, leaves everything alone while the manual tier applies', () => {
    const override: TierRules = { ...withGrace, manualMode: 'OVERRIDE' };
    expect(atGraceEnd(override, ladder, pending('gold', { manualTierId: 'silver' }), 0, 0, due)).toEqual({ kind: 'NONE' });
    const expired = pending('gold', { manualTierId: 'silver', manualUntil: d('2027-01-15T00:00:00Z') });
    expect(atGraceEnd(override, ladder, expired, 0, 0, due)).toEqual({ kind: 'CHANGE', toTierId: 'bronze', reason: 'GRACE_ENDED' });
  });

  it('clears a due schedule with nowhere to go', () => {
    expect(atGraceEnd({ ...withGrace, downgrade: 'ONE_TIER' }, ladder, pending('bronze'), 0, 0, due)).toEqual({ kind: 'CANCEL_DOWNGRADE' });
    expect(atGraceEnd(withGrace, [], pending('gone'), 0, 0, due)).toEqual({ kind: 'CANCEL_DOWNGRADE' });
  });
});

describe('tierProgress', () => {
  it('shows the period, what keeps the tier and what reaches the next one', () => {
    expect(tierProgress(rules, ladder, member('silver'), 400, midYear)).toEqual({
      tierId: 'silver',
      periodStart: d('2026-01-01T00:00:00Z'),
      periodEnd: d('2027-01-01T00:00:00Z'),
      statusPoints: 400,
      pointsToKeep: 600,
      nextTierId: 'gold',
      pointsToNext: 4600,
      downgradeDueAt: null,
    });
  });

  it('never asks for negative points', () => {
    expect(tierProgress(rules, ladder, member('silver'), 5200, midYear)).toMatchObject({ pointsToKeep: 0, nextTierId: 'gold', pointsToNext: 0 });
  });

  it('has no next tier at the top', () => {
    expect(tierProgress(rules, ladder, member('gold'), 6000, midYear)).toMatchObject({ tierId: 'gold', pointsToKeep: 0, nextTierId: null, pointsToNext: null });
  });

  it('without a tier, nothing to keep and the lowest tier is next', () => {
    expect(tierProgress(rules, [silver, gold], member(null), 300, midYear)).toMatchObject({ tierId: null, pointsToKeep: 0, nextTierId: 'silver', pointsToNext: 700 });
    expect(tierProgress(rules, [], member(null), 300, midYear)).toMatchObject({ tierId: null, pointsToKeep: 0, nextTierId: null, pointsToNext: null });
  });

  it('shows a scheduled downgrade and the new period during the grace', () => {
    const progress = tierProgress(withGrace, ladder, member('gold', { downgradeDueAt: d('2027-01-31T00:00:00Z') }), 1200, d('2027-01-10T00:00:00Z'));
    expect(progress).toMatchObject({ periodStart: d('2027-01-01T00:00:00Z'), pointsToKeep: 3800, downgradeDueAt: d('2027-01-31T00:00:00Z') });
  });
});

describe('validateTierRules', () => {
  it('keeps only the fields given', () => {
    const anchor = d('2026-04-01T00:00:00Z');
    expect(validateTierRules({ periodMonths: 36, periodAnchor: anchor, graceDays: null })).toEqual({ periodMonths: 36, periodAnchor: anchor });
    expect(validateTierRules({ downgrade: 'ONE_TIER', graceDays: 0, manualMode: 'OVERRIDE' })).toEqual({ downgrade: 'ONE_TIER', graceDays: 0, manualMode: 'OVERRIDE' });
  });

  it.each([
    ['periodMonths', { periodMonths: 0 }],
    ['periodMonths', { periodMonths: 37 }],
    ['periodMonths', { periodMonths: 1.5 }],
    ['graceDays', { graceDays: -1 }],
    ['graceDays', { graceDays: 366 }],
    ['periodAnchor', { periodAnchor: new Date('not a date') }],
    ['downgrade', { downgrade: 'TWO_TIERS' as never }],
    ['manualMode', { manualMode: 'SOMETIMES' as never }],
  ])('names %s when it is out of range', (field, input) => {
    const error = errorOf(() => validateTierRules(input));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe(field);
  });

  it('defaults to yearly periods, downgrade to what is earned, no grace, manual tier as floor', () => {
    expect(DEFAULT_TIER_RULES).toEqual({ periodMonths: 12, downgrade: 'TO_QUALIFIED', graceDays: 0, manualMode: 'FLOOR' });
  });
});
