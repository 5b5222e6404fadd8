import { InputError, isUuid } from '@loyalty-graph/shared';
import { checkProfileRules, matchesProfile, profileConditions, type DateRange, type ProfileRulesInput } from './profile-rules';

/**
 * Rule-based segments: what a rule means, checked once on the way in, then evaluated two ways that
 * must agree — `matches` for one member (the event path, after that member's state changed) and
 * `rulesPredicate` for a whole program at once (creating or updating a segment, the time job), as
 * SQL over `member_state`, because a per-member loop over a million members is not an option.
 * test/segments.test.ts checks that both put the same members in a segment.
 */

export const MEMBER_STATUSES = ['ACTIVE', 'SUSPENDED', 'CLOSED'] as const;
export const CONSENT_CHANNELS = ['EMAIL', 'SMS', 'PUSH', 'POST'] as const;
export const CONSENT_PURPOSES = ['MARKETING', 'PROFILING', 'PARTNER_SHARING', 'PARTNER_MARKETING'] as const;
/** A day in milliseconds: the windows are whole days counted back from now. */
const DAY_MS = 86_400_000;
/** The longest activity window: ten years (longer is a typo, not a rule). */
const MAX_WINDOW_DAYS = 3650;

export interface Range {
  min: string | null;
  max: string | null;
}
export interface ScoreRange {
  min: number | null;
  max: number | null;
}

/** All-of conditions; an absent one does not restrict. Stored as this JSON in `segments.rules`. */
export interface SegmentRules {
  tierIds?: string[];
  statuses?: string[];
  purchasedWithinDays?: number;
  notPurchasedWithinDays?: number;
  spend?: Range;
  pointsBalance?: Range;
  consents?: string[];
  groupIds?: string[];
  enrolledBetween?: { from: string | null; to: string | null };
  enrolledThroughPartnerId?: string;
  rfm?: { r?: ScoreRange; f?: ScoreRange; m?: ScoreRange };
  /** Profile rules (domain/profile-rules.ts): only members who granted PROFILING match them. */
  bornBetween?: DateRange;
  preferredLanguages?: string[];
}

/** What the rules read of a member (a `member_state` row). */
export interface MemberFacts {
  tierId: string | null;
  status: string;
  lastPurchaseAt: Date | null;
  purchases: number;
  spend: string;
  pointsBalance: string;
  consents: string[];
  groupIds: string[];
  enrolledAt: Date | null;
  enrolledThroughPartnerId: string | null;
  /** ISO date (YYYY-MM-DD) from MemberProfileChanged; null when unknown. */
  birthDate: string | null;
  /** The BCP 47 tag the member gave; null when unknown. */
  preferredLanguage: string | null;
}

/** The member's RFM scores from the program's current breakpoints; null without a purchase. */
export interface RfmScores {
  r: number;
  f: number;
  m: number;
}

type Input = ProfileRulesInput & {
  tierIds?: readonly string[] | null;
  statuses?: readonly string[] | null;
  purchasedWithinDays?: number | null;
  notPurchasedWithinDays?: number | null;
  spend?: { min?: string | null; max?: string | null } | null;
  pointsBalance?: { min?: string | bigint | null; max?: string | bigint | null } | null;
  consents?: readonly string[] | null;
  groupIds?: readonly string[] | null;
  enrolledBetween?: { from?: Date | string | null; to?: Date | string | null } | null;
  enrolledThroughPartnerId?: string | null;
  rfm?: { r?: { min?: number | null; max?: number | null } | null; f?: { min?: number | null; max?: number | null } | null; m?: { min?: number | null; max?: number | null } | null } | null;
};

const DECIMAL = /^-?\d{1,16}(\.\d{1,4})?$/;
const INTEGER = /^-?\d{1,18}$/;

/** Checks and normalises rules (BAD_USER_INPUT naming the field); at least one condition. */
export function checkRules(input: Input, field = 'rules'): SegmentRules {
  const rules: SegmentRules = {};
  const ids = (list: readonly string[] | null | undefined, name: string) => {
    if (list == null) return undefined;
    if (list.length === 0 || list.length > 50) throw new InputError(`${name} takes 1 to 50 ids`, `${field}.${name}`);
    for (const id of list) if (!isUuid(id)) throw new InputError(`${name} has ${id}, which is not an id`, `${field}.${name}`);
    return [...new Set(list)].sort();
  };
  const tierIds = ids(input.tierIds, 'tierIds');
  if (tierIds) rules.tierIds = tierIds;
  const groupIds = ids(input.groupIds, 'groupIds');
  if (groupIds) rules.groupIds = groupIds;
  if (input.statuses != null) {
    if (input.statuses.length === 0) throw new InputError('statuses takes at least one status', `${field}.statuses`);
    for (const s of input.statuses) if (!(MEMBER_STATUSES as readonly string[]).includes(s)) throw new InputError(`statuses: ${s} is not one of ${MEMBER_STATUSES.join(', ')}`, `${field}.statuses`);
    rules.statuses = [...new Set(input.statuses)].sort();
  }
  for (const name of ['purchasedWithinDays', 'notPurchasedWithinDays'] as const) {
    const days = input[name];
    if (days == null) continue;
    if (!Number.isInteger(days) || days < 1 || days > MAX_WINDOW_DAYS) throw new InputError(`${name} must be a whole number of days from 1 to ${MAX_WINDOW_DAYS}`, `${field}.${name}`);
    rules[name] = days;
  }
  if (rules.purchasedWithinDays && rules.notPurchasedWithinDays && rules.notPurchasedWithinDays >= rules.purchasedWithinDays) {
    throw new InputError('notPurchasedWithinDays must be shorter than purchasedWithinDays, or nobody can match', `${field}.notPurchasedWithinDays`);
  }
  if (input.spend != null) rules.spend = range(input.spend, DECIMAL, `${field}.spend`);
  if (input.pointsBalance != null) {
    rules.pointsBalance = range({ min: input.pointsBalance.min?.toString() ?? null, max: input.pointsBalance.max?.toString() ?? null }, INTEGER, `${field}.pointsBalance`);
  }
  if (input.consents != null) {
    if (input.consents.length === 0) throw new InputError('consents takes at least one CHANNEL:PURPOSE pair', `${field}.consents`);
    for (const c of input.consents) {
      const [channel, purpose, rest] = c.split(':');
      if (rest !== undefined || !(CONSENT_CHANNELS as readonly string[]).includes(channel ?? '') || !(CONSENT_PURPOSES as readonly string[]).includes(purpose ?? '')) {
        throw new InputError(`consents: ${c} is not CHANNEL:PURPOSE (channels ${CONSENT_CHANNELS.join(', ')}; purposes ${CONSENT_PURPOSES.join(', ')})`, `${field}.consents`);
      }
    }
    rules.consents = [...new Set(input.consents)].sort();
  }
  if (input.enrolledBetween != null) {
    const from = instant(input.enrolledBetween.from, `${field}.enrolledBetween.from`);
    const to = instant(input.enrolledBetween.to, `${field}.enrolledBetween.to`);
    if (from === null && to === null) throw new InputError('enrolledBetween needs from, to or both', `${field}.enrolledBetween`);
    if (from !== null && to !== null && to <= from) throw new InputError('enrolledBetween.to must be after from', `${field}.enrolledBetween.to`);
    rules.enrolledBetween = { from, to };
  }
  if (input.enrolledThroughPartnerId != null) {
    if (!isUuid(input.enrolledThroughPartnerId)) throw new InputError('enrolledThroughPartnerId is not an id', `${field}.enrolledThroughPartnerId`);
    rules.enrolledThroughPartnerId = input.enrolledThroughPartnerId;
  }
  if (input.rfm != null) {
    const rfm: NonNullable<SegmentRules['rfm']> = {};
    for (const key of ['r', 'f', 'm'] as const) {
      const r = input.rfm[key];
      if (r == null) continue;
      const min = r.min ?? null;
      const max = r.max ?? null;
      for (const v of [min, max]) if (v !== null && (!Number.isInteger(v) || v < 1 || v > 5)) throw new InputError(`rfm.${key}: scores are 1 to 5`, `${field}.rfm.${key}`);
      if (min === null && max === null) throw new InputError(`rfm.${key} needs min, max or both`, `${field}.rfm.${key}`);
      if (min !== null && max !== null && min > max) throw new InputError(`rfm.${key}: min is above max`, `${field}.rfm.${key}`);
      rfm[key] = { min, max };
    }
    if (Object.keys(rfm).length === 0) throw new InputError('rfm needs r, f or m', `${field}.rfm`);
    rules.rfm = rfm;
  }
  Object.assign(rules, checkProfileRules(input, field));
  if (Object.keys(rules).length === 0) throw new InputError('A segment needs at least one rule (it would otherwise be every member)', field);
  return rules;
}

function range(input: { min?: string | null; max?: string | null }, pattern: RegExp, field: string): Range {
  const min = input.min ?? null;
  const max = input.max ?? null;
  for (const v of [min, max]) if (v !== null && !pattern.test(v)) throw new InputError(`${field}: ${v} is not a number this rule takes`, field);
  if (min === null && max === null) throw new InputError(`${field} needs min, max or both`, field);
  if (min !== null && max !== null && Number(min) > Number(max)) throw new InputError(`${field}: min is above max`, field);
  return { min, max };
}

function instant(value: Date | string | null | undefined, field: string): string | null {
  if (value == null) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InputError(`${field} is not an instant`, field);
  return date.toISOString();
}

/** Compares two decimals given as text, exactly (no float rounding of money). */
export function compareDecimal(a: string, b: string): number {
  const scale = (s: string) => {
    const negative = s.startsWith('-');
    const [whole, frac = ''] = (negative ? s.slice(1) : s).split('.');
    const v = BigInt(whole! + frac.padEnd(4, '0').slice(0, 4));
    return negative ? -v : v;
  };
  const d = scale(a) - scale(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

const within = (value: string, r: Range) => (r.min === null || compareDecimal(value, r.min) >= 0) && (r.max === null || compareDecimal(value, r.max) <= 0);
const scoreWithin = (score: number, r: ScoreRange | undefined) => !r || ((r.min === null || score >= r.min) && (r.max === null || score <= r.max));

/** Whether one member matches every rule, at `now`. The rules' meanings are documented in schema.graphql (SegmentRules). */
export function matches(rules: SegmentRules, member: MemberFacts, now: Date, rfm: RfmScores | null): boolean {
  if (rules.tierIds && (member.tierId === null || !rules.tierIds.includes(member.tierId))) return false;
  if (rules.statuses && !rules.statuses.includes(member.status)) return false;
  const last = member.lastPurchaseAt?.getTime() ?? null;
  if (rules.purchasedWithinDays !== undefined && (last === null || last < now.getTime() - rules.purchasedWithinDays * DAY_MS)) return false;
  if (rules.notPurchasedWithinDays !== undefined && last !== null && last >= now.getTime() - rules.notPurchasedWithinDays * DAY_MS) return false;
  if (rules.spend && !within(member.spend, rules.spend)) return false;
  if (rules.pointsBalance && !within(member.pointsBalance, rules.pointsBalance)) return false;
  if (rules.consents && !rules.consents.every((c) => member.consents.includes(c))) return false;
  if (rules.groupIds && !rules.groupIds.some((g) => member.groupIds.includes(g))) return false;
  if (rules.enrolledBetween) {
    const at = member.enrolledAt?.getTime() ?? null;
    if (at === null) return false;
    if (rules.enrolledBetween.from !== null && at < Date.parse(rules.enrolledBetween.from)) return false;
    if (rules.enrolledBetween.to !== null && at >= Date.parse(rules.enrolledBetween.to)) return false;
  }
  if (rules.enrolledThroughPartnerId !== undefined && member.enrolledThroughPartnerId !== rules.enrolledThroughPartnerId) return false;
  if (rules.rfm) {
    if (!rfm) return false;
    if (!scoreWithin(rfm.r, rules.rfm.r) || !scoreWithin(rfm.f, rules.rfm.f) || !scoreWithin(rfm.m, rules.rfm.m)) return false;
  }
  return matchesProfile(rules, member);
}

/** Whether the rules depend on the clock (the time job re-evaluates them at their window boundary). */
export function windowsOf(rules: SegmentRules): number[] {
  return [rules.purchasedWithinDays, rules.notPurchasedWithinDays].filter((d): d is number => d !== undefined);
}

/**
 * The same rules as a SQL condition over `member_state s` (alias `s`), with its parameters
 * numbered from `first`. `now` is the instant the windows count back from. RFM ranges become
 * value ranges through the program's current `breakpoints` (scoreRangeToValues).
 */
export function rulesPredicate(rules: SegmentRules, first: number, now: Date, breakpoints: readonly Breakpoint[] = []): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  const parts: string[] = [];
  if (rules.tierIds) parts.push(`s.tier_id = ANY(${p(rules.tierIds)}::uuid[])`);
  if (rules.statuses) parts.push(`s.status = ANY(${p(rules.statuses)}::text[])`);
  if (rules.purchasedWithinDays !== undefined) parts.push(`s.last_purchase_at >= ${p(new Date(now.getTime() - rules.purchasedWithinDays * DAY_MS))}::timestamptz`);
  if (rules.notPurchasedWithinDays !== undefined) parts.push(`(s.last_purchase_at IS NULL OR s.last_purchase_at < ${p(new Date(now.getTime() - rules.notPurchasedWithinDays * DAY_MS))}::timestamptz)`);
  for (const [column, r] of [
    ['s.spend', rules.spend],
    ['s.points_balance', rules.pointsBalance],
  ] as const) {
    if (!r) continue;
    if (r.min !== null) parts.push(`${column} >= ${p(r.min)}::numeric`);
    if (r.max !== null) parts.push(`${column} <= ${p(r.max)}::numeric`);
  }
  if (rules.consents) parts.push(`s.consents @> ${p(rules.consents)}::text[]`);
  if (rules.groupIds) parts.push(`s.group_ids && ${p(rules.groupIds)}::uuid[]`);
  if (rules.enrolledBetween) {
    parts.push('s.enrolled_at IS NOT NULL');
    if (rules.enrolledBetween.from !== null) parts.push(`s.enrolled_at >= ${p(rules.enrolledBetween.from)}::timestamptz`);
    if (rules.enrolledBetween.to !== null) parts.push(`s.enrolled_at < ${p(rules.enrolledBetween.to)}::timestamptz`);
  }
  if (rules.enrolledThroughPartnerId !== undefined) parts.push(`s.enrolled_through_partner_id = ${p(rules.enrolledThroughPartnerId)}::uuid`);
  parts.push(...profileConditions(rules, p));
  if (rules.rfm) {
    parts.push('s.purchases > 0 AND s.last_purchase_at IS NOT NULL');
    // Scores are monotone in the value, so a score range is a value range: plain comparisons
    // (the last purchase on its index) instead of scoring every member against the breakpoints.
    for (const key of ['r', 'f', 'm'] as const) {
      const range = rules.rfm[key];
      if (!range) continue;
      const values = scoreRangeToValues(breakpoints, key.toUpperCase() as 'R' | 'F' | 'M', range);
      if (values === null) {
        parts.push('false');
        continue;
      }
      const column = key === 'f' ? 's.purchases' : 's.spend';
      if (key === 'r') {
        // days ≤ B ⇔ last purchase > now − (B + 1) days; days > B ⇔ last purchase ≤ now − (B + 1) days.
        if (values.atMost !== null) parts.push(`s.last_purchase_at > ${p(new Date(now.getTime() - (Number(values.atMost) + 1) * DAY_MS))}::timestamptz`);
        if (values.above !== null) parts.push(`s.last_purchase_at <= ${p(new Date(now.getTime() - (Number(values.above) + 1) * DAY_MS))}::timestamptz`);
      } else {
        if (values.atLeast !== null) parts.push(`${column} >= ${p(values.atLeast)}::numeric`);
        if (values.below !== null) parts.push(`${column} < ${p(values.below)}::numeric`);
      }
    }
  }
  return { sql: parts.length ? parts.map((part) => `(${part})`).join(' AND ') : 'true', params };
}

/**
 * One score's breakpoint. F and M: `bound` is the smallest value that scored `score` when the
 * breakpoints were computed (a member's score is the highest whose bound is ≤ their value). R (days
 * since the last purchase, fewer is better): `bound` is the largest number of days that scored
 * `score` (a member's score is the highest whose bound is ≥ their days). A value beyond every bound
 * gets the lowest score there is.
 */
export interface Breakpoint {
  dimension: 'R' | 'F' | 'M';
  score: number;
  bound: string;
}

/**
 * Quintile scores 1–5 by `ceil(5 × cume_dist)`: cume_dist is the share of members whose value is
 * as good or worse (equal values share a score, so ties never split), counted on integers.
 * `better` says which way is good: 'higher' for F and M, 'lower' for R (days).
 */
export function quintileScores(values: readonly number[], better: 'higher' | 'lower'): number[] {
  const n = values.length;
  return values.map((v) => {
    const asGoodOrWorse = values.filter((w) => (better === 'higher' ? w <= v : w >= v)).length;
    return Math.floor((5 * asGoodOrWorse + n - 1) / n);
  });
}

/** The breakpoints of one dimension from scored values (mirrors the SQL in services/rfm.ts). */
export function breakpointsOf(dimension: 'R' | 'F' | 'M', values: readonly number[]): Breakpoint[] {
  const scores = quintileScores(values, dimension === 'R' ? 'lower' : 'higher');
  const bounds = new Map<number, number>();
  values.forEach((v, i) => {
    const s = scores[i]!;
    const current = bounds.get(s);
    if (current === undefined || (dimension === 'R' ? v > current : v < current)) bounds.set(s, v);
  });
  return [...bounds].sort(([a], [b]) => a - b).map(([score, bound]) => ({ dimension, score, bound: String(bound) }));
}

/** A member's score in one dimension from breakpoints (rulesPredicate turns score ranges into value ranges by the same rule). */
export function scoreFrom(breakpoints: readonly Breakpoint[], dimension: 'R' | 'F' | 'M', value: string): number {
  const mine = breakpoints.filter((b) => b.dimension === dimension);
  if (mine.length === 0) return 1;
  const reached = mine.filter((b) => (dimension === 'R' ? compareDecimal(b.bound, value) >= 0 : compareDecimal(b.bound, value) <= 0));
  return reached.length ? Math.max(...reached.map((b) => b.score)) : Math.min(...mine.map((b) => b.score));
}

/** Days since the last purchase, whole days (what R measures). */
export function daysSince(last: Date, now: Date): number {
  return Math.floor((now.getTime() - last.getTime()) / DAY_MS);
}

/** A member's RFM from breakpoints; null when they never purchased (they have no RFM). */
export function rfmFromBreakpoints(breakpoints: readonly Breakpoint[], member: Pick<MemberFacts, 'lastPurchaseAt' | 'purchases' | 'spend'>, now: Date): (RfmScores & { days: number }) | null {
  if (member.purchases <= 0 || member.lastPurchaseAt === null) return null;
  const days = daysSince(member.lastPurchaseAt, now);
  return { days, r: scoreFrom(breakpoints, 'R', String(days)), f: scoreFrom(breakpoints, 'F', String(member.purchases)), m: scoreFrom(breakpoints, 'M', member.spend) };
}

/** Name and description limits. */
export function checkSegmentText(name: string, description: string | null | undefined): { name: string; description: string | null } {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100) throw new InputError('name must be 1 to 100 characters', 'name');
  const desc = description?.trim() ?? null;
  if (desc !== null && desc.length > 1000) throw new InputError('description must be at most 1000 characters', 'description');
  return { name: trimmed, description: desc || null };
}

/** part / whole rounded half up to 4 decimals, on integers; null for an empty segment. */
export function share(part: number, whole: number): string | null {
  if (whole === 0) return null;
  const tenThousandths = Math.floor((part * 20_000 + whole) / (2 * whole));
  return `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`;
}

/** The stored rules as the SegmentRules type's parent (codegen mapper: the name SegmentRules is the schema's). */
export type SegmentRulesModel = SegmentRules;

/**
 * The values of one dimension whose score (scoreFrom) is within `range`, as bounds: F and M,
 * `atLeast` ≤ value < `below`; R (days), `above` < days ≤ `atMost`; a null bound does not restrict.
 * Null: no value scores in the range. Scores only grow with the value (fall with the days), so
 * "score ≥ k" is "value reaches the bound of the lowest score present that is ≥ k", and a score at
 * or below the lowest present is every value's.
 */
export function scoreRangeToValues(
  breakpoints: readonly Breakpoint[],
  dimension: 'R' | 'F' | 'M',
  range: ScoreRange,
): { atLeast: string | null; below: string | null; atMost: string | null; above: string | null } | null {
  const mine = breakpoints.filter((b) => b.dimension === dimension).sort((a, b) => a.score - b.score);
  const lowest = mine[0]?.score ?? 1;
  /** The bound at which the score becomes ≥ k: 'all' values, 'none', or a bound. */
  const from = (k: number): 'all' | 'none' | string => {
    if (k <= lowest) return 'all';
    const first = mine.find((b) => b.score >= k);
    return first ? first.bound : 'none';
  };
  const out = { atLeast: null as string | null, below: null as string | null, atMost: null as string | null, above: null as string | null };
  if (range.min !== null) {
    const bound = from(range.min);
    if (bound === 'none') return null;
    if (bound !== 'all') {
      if (dimension === 'R') out.atMost = bound;
      else out.atLeast = bound;
    }
  }
  if (range.max !== null) {
    const bound = from(range.max + 1);
    if (bound === 'all') return null;
    if (bound !== 'none') {
      if (dimension === 'R') out.above = bound;
      else out.below = bound;
    }
  }
  return out;
}
