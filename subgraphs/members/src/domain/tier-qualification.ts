import { InputError } from '@loyalty-graph/shared';

export type DowngradeMode = 'ONE_TIER' | 'TO_QUALIFIED';
export type ManualTierMode = 'FLOOR' | 'OVERRIDE';
export interface TierRules {
  periodMonths: number;
  periodAnchor: Date;
  downgrade: DowngradeMode;
  graceDays: number;
  manualMode: ManualTierMode;
}
export interface LadderTier {
  id: string;
  rank: number;
  qualifyingThreshold: number;
}
export interface MemberTierState {
  tierId: string | null;
  manualTierId: string | null;
  manualUntil: Date | null;
  downgradeDueAt: Date | null;
}
export type TierReason = 'QUALIFIED' | 'PERIOD_END' | 'GRACE_ENDED';
export type TierDecision =
  | { kind: 'NONE' }
  /** Also clears any scheduled downgrade. */
  | { kind: 'CHANGE'; toTierId: string | null; reason: TierReason }
  | { kind: 'SCHEDULE_DOWNGRADE'; dueAt: Date }
  | { kind: 'CANCEL_DOWNGRADE' };
export interface TierProgress {
  tierId: string | null;
  periodStart: Date;
  periodEnd: Date;
  statusPoints: number;
  pointsToKeep: number;
  nextTierId: string | null;
  pointsToNext: number | null;
  downgradeDueAt: Date | null;
}

export const DEFAULT_TIER_RULES: Omit<TierRules, 'periodAnchor'> = { periodMonths: 12, downgrade: 'TO_QUALIFIED', graceDays: 0, manualMode: 'FLOOR' };

const NONE: TierDecision = { kind: 'NONE' };
const CANCEL: TierDecision = { kind: 'CANCEL_DOWNGRADE' };
const DAY_MS = 86_400_000;

/**
 * The anchor moved by n UTC calendar months, keeping its day and time of day. Every boundary is
 * computed from the anchor itself (never from the previous boundary), so a day-31 anchor is clamped
 * to the last day of short months (Jan 31 → Feb 28 → Mar 31) instead of drifting to the 28th for good.
 */
function addMonths(anchor: Date, n: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + n;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(anchor.getUTCDate(), lastDay);
  return new Date(Date.UTC(year, month, day, anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds(), anchor.getUTCMilliseconds()));
}

/** The period [start, end) holding `at`; periods repeat both ways from the anchor. */
export function periodAt(rules: Pick<TierRules, 'periodMonths' | 'periodAnchor'>, at: Date): { start: Date; end: Date } {
  const { periodMonths: months, periodAnchor: anchor } = rules;
  const monthsApart = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + at.getUTCMonth() - anchor.getUTCMonth();
  // Each boundary lies in the calendar month it is counted for, so this guess is never too early;
  // it is one too late when `at` comes before the anchor's day or time of day in its month.
  let k = Math.floor(monthsApart / months);
  while (addMonths(anchor, k * months) > at) k--;
  return { start: addMonths(anchor, k * months), end: addMonths(anchor, (k + 1) * months) };
}

export function qualifiedTier(ladder: readonly LadderTier[], points: number): LadderTier | null {
  let best: LadderTier | null = null;
  for (const tier of ladder) if (tier.qualifyingThreshold <= points && (!best || tier.rank > best.rank)) best = tier;
  return best;
}

export function manualApplies(state: MemberTierState, now: Date): boolean {
  return state.manualTierId != null && (state.manualUntil == null || now < state.manualUntil);
}

/** A tier id no longer on the ladder (tier deleted) counts as no tier: it can be upgraded from, not downgraded. */
function tierById(ladder: readonly LadderTier[], id: string | null): LadderTier | null {
  return id == null ? null : (ladder.find((tier) => tier.id === id) ?? null);
}

function overridden(rules: TierRules, state: MemberTierState, now: Date): boolean {
  return rules.manualMode === 'OVERRIDE' && manualApplies(state, now);
}

/** A scheduled downgrade can still be cancelled; from its due date on it can only be applied. */
function inGrace(state: MemberTierState, now: Date): boolean {
  return state.downgradeDueAt != null && now < state.downgradeDueAt;
}

function rankOf(tier: LadderTier | null): number {
  return tier ? tier.rank : -Infinity;
}

/** Thresholds of 0 or less are held by everyone, so such a tier is never lost (even with returns pushing points below 0). */
function keepsTier(tier: LadderTier, points: number): boolean {
  return tier.qualifyingThreshold <= 0 || points >= tier.qualifyingThreshold;
}

function nextBelow(ladder: readonly LadderTier[], tier: LadderTier): LadderTier | null {
  let best: LadderTier | null = null;
  for (const t of ladder) if (t.rank < tier.rank && t.rank > rankOf(best)) best = t;
  return best;
}

function nextAbove(ladder: readonly LadderTier[], tier: LadderTier | null): LadderTier | null {
  let best: LadderTier | null = null;
  for (const t of ladder) if (t.rank > rankOf(tier) && (!best || t.rank < best.rank)) best = t;
  return best;
}

/** Where a downgrade from `current` lands; `current` itself means there is nothing to do. */
function downgradeTarget(rules: TierRules, ladder: readonly LadderTier[], state: MemberTierState, current: LadderTier, points: number, now: Date) {
  const supported = qualifiedTier(ladder, points);
  // A downgrade never moves up, even on a ladder whose thresholds are out of order.
  let target = rules.downgrade === 'ONE_TIER' ? nextBelow(ladder, current) : rankOf(supported) < current.rank ? supported : current;
  const floor = rules.manualMode === 'FLOOR' && manualApplies(state, now) ? tierById(ladder, state.manualTierId) : null;
  if (floor && floor.rank > rankOf(target)) target = floor.rank < current.rank ? floor : current;
  return target;
}

function change(to: LadderTier | null, reason: TierReason): TierDecision {
  return { kind: 'CHANGE', toTierId: to?.id ?? null, reason };
}

export function onPointsChanged(rules: TierRules, ladder: readonly LadderTier[], state: MemberTierState, periodPoints: number, now: Date): TierDecision {
  if (overridden(rules, state, now)) return NONE;
  const current = tierById(ladder, state.tierId);
  const qualified = qualifiedTier(ladder, periodPoints);
  if (qualified && qualified.rank > rankOf(current)) return change(qualified, 'QUALIFIED');
  if (inGrace(state, now) && current && keepsTier(current, periodPoints)) return CANCEL;
  return NONE;
}

export function atPeriodEnd(rules: TierRules, ladder: readonly LadderTier[], state: MemberTierState, endedPoints: number, _currentPoints: number, now: Date): TierDecision {
  if (overridden(rules, state, now)) return NONE;
  const current = tierById(ladder, state.tierId);
  if (!current) return NONE;
  // The period just ended ran within a pending grace and met the threshold: the tier was re-earned.
  if (keepsTier(current, endedPoints)) return inGrace(state, now) ? CANCEL : NONE;
  // A grace longer than a period must not be pushed back period after period, or it would never end.
  if (state.downgradeDueAt != null) return NONE;
  const target = downgradeTarget(rules, ladder, state, current, endedPoints, now);
  if (target?.id === current.id) return NONE;
  if (rules.graceDays > 0) return { kind: 'SCHEDULE_DOWNGRADE', dueAt: new Date(periodAt(rules, now).start.getTime() + rules.graceDays * DAY_MS) };
  return change(target, 'PERIOD_END');
}

export function atGraceEnd(rules: TierRules, ladder: readonly LadderTier[], state: MemberTierState, endedPoints: number, currentPoints: number, now: Date): TierDecision {
  if (overridden(rules, state, now) || state.downgradeDueAt == null || now < state.downgradeDueAt) return NONE;
  const current = tierById(ladder, state.tierId);
  // A due downgrade that has nowhere to go is cleared rather than left to show in the app forever.
  if (!current || current.qualifyingThreshold <= 0) return CANCEL;
  const target = downgradeTarget(rules, ladder, state, current, Math.max(endedPoints, currentPoints), now);
  return target?.id === current.id ? CANCEL : change(target, 'GRACE_ENDED');
}

export function tierProgress(rules: TierRules, ladder: readonly LadderTier[], state: MemberTierState, periodPoints: number, now: Date): TierProgress {
  const { start, end } = periodAt(rules, now);
  const current = tierById(ladder, state.tierId);
  const next = nextAbove(ladder, current);
  return {
    tierId: current?.id ?? null,
    periodStart: start,
    periodEnd: end,
    statusPoints: periodPoints,
    pointsToKeep: current ? Math.max(0, current.qualifyingThreshold - periodPoints) : 0,
    nextTierId: next?.id ?? null,
    pointsToNext: next ? Math.max(0, next.qualifyingThreshold - periodPoints) : null,
    downgradeDueAt: state.downgradeDueAt,
  };
}

function intInRange(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${field} must be a whole number between ${min} and ${max}`, field);
  return value;
}

function oneOf<T extends string>(value: T, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value)) throw new InputError(`${field} must be one of ${allowed.join(', ')}`, field);
  return value;
}

/** Keeps only the fields given. Anchors on day 29..31 are accepted but clamp in short months (see addMonths). */
export function validateTierRules(input: {
  periodMonths?: number | null;
  periodAnchor?: Date | null;
  downgrade?: DowngradeMode | null;
  graceDays?: number | null;
  manualMode?: ManualTierMode | null;
}): Partial<TierRules> {
  const out: Partial<TierRules> = {};
  if (input.periodMonths != null) out.periodMonths = intInRange(input.periodMonths, 1, 36, 'periodMonths');
  if (input.periodAnchor != null) {
    if (Number.isNaN(input.periodAnchor.getTime())) throw new InputError('periodAnchor is not a valid date', 'periodAnchor');
    out.periodAnchor = input.periodAnchor;
  }
  if (input.downgrade != null) out.downgrade = oneOf<DowngradeMode>(input.downgrade, ['ONE_TIER', 'TO_QUALIFIED'], 'downgrade');
  if (input.graceDays != null) out.graceDays = intInRange(input.graceDays, 0, 365, 'graceDays');
  if (input.manualMode != null) out.manualMode = oneOf<ManualTierMode>(input.manualMode, ['FLOOR', 'OVERRIDE'], 'manualMode');
  return out;
}
