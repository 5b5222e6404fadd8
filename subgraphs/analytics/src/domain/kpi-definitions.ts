import { InputError } from '@loyalty-graph/shared';

/**
 * The KPIs' definitions and their versions. A program's analytics settings (the activity window)
 * are versioned: version 1 is the built-in default in force from the beginning, each change adds
 * the next version effective from a time not in the past, and a bucket is computed with the version
 * in force at its start. So changing the window never rewrites a bucket already published.
 */

export const DEFAULT_ACTIVE_WINDOW_DAYS = 90;
export const MIN_ACTIVE_WINDOW_DAYS = 1;
export const MAX_ACTIVE_WINDOW_DAYS = 730;

export interface SettingsVersion {
  version: number;
  activeWindowDays: number;
  /** Null for version 1, the default, in force from the beginning. */
  effectiveFrom: Date | null;
}

export const DEFAULT_SETTINGS: SettingsVersion = { version: 1, activeWindowDays: DEFAULT_ACTIVE_WINDOW_DAYS, effectiveFrom: null };

/**
 * The version in force at an instant: of those effective at or before it, the newest version (a
 * later change supersedes an earlier one even when it starts sooner). `versions` may omit version 1.
 */
export function settingsAt(versions: readonly SettingsVersion[], at: Date): SettingsVersion {
  let chosen = DEFAULT_SETTINGS;
  for (const v of versions) {
    if (v.effectiveFrom !== null && v.effectiveFrom.getTime() > at.getTime()) continue;
    if (v.version > chosen.version) chosen = v;
  }
  return chosen;
}

/** Refuses a window out of 1–730 whole days or an effectiveFrom that is not an instant; the default window is 90 days. */
export function checkSettingsInput(input: { activeWindowDays?: number | null; effectiveFrom: Date }): { activeWindowDays: number; effectiveFrom: Date } {
  const activeWindowDays = input.activeWindowDays ?? DEFAULT_ACTIVE_WINDOW_DAYS;
  if (!Number.isInteger(activeWindowDays) || activeWindowDays < MIN_ACTIVE_WINDOW_DAYS || activeWindowDays > MAX_ACTIVE_WINDOW_DAYS) {
    throw new InputError(`activeWindowDays must be a whole number of days from ${MIN_ACTIVE_WINDOW_DAYS} to ${MAX_ACTIVE_WINDOW_DAYS}`, 'activeWindowDays');
  }
  if (Number.isNaN(input.effectiveFrom.getTime())) throw new InputError('effectiveFrom must be an instant', 'effectiveFrom');
  return { activeWindowDays, effectiveFrom: input.effectiveFrom };
}

/** Refuses a start in the past: it would change buckets already published. */
export function checkNotPast(effectiveFrom: Date, now: Date): void {
  if (effectiveFrom.getTime() < now.getTime()) {
    throw new InputError('effectiveFrom must not be in the past: buckets already published keep the definition they were computed with', 'effectiveFrom');
  }
}

/** Both checks of a new settings version. */
export function checkSettingsChange(input: { activeWindowDays?: number | null; effectiveFrom: Date }, now: Date): { activeWindowDays: number; effectiveFrom: Date } {
  const change = checkSettingsInput(input);
  checkNotPast(change.effectiveFrom, now);
  return change;
}

/** Every KPI of a bucket (ProgramKpiBucket), as named in KpiName. */
export const KPI_NAMES = [
  'ENROLLED',
  'POINTS_ISSUED',
  'POINTS_REDEEMED',
  'POINTS_EXPIRED',
  'PURCHASES',
  'AVERAGE_POINTS_PER_PURCHASE',
  'ACTIVE',
  'CHURNED',
  'RETENTION_RATE',
  'PURCHASE_FREQUENCY',
  'AVERAGE_BASKET',
  'POINTS_PENDING',
  'REDEMPTION_RATE',
  'REFERRAL_CONVERSION',
] as const;
export type KpiName = (typeof KPI_NAMES)[number];

/** The KPIs whose definition takes the activity window: their text changes with the settings version. */
export const WINDOWED_KPIS: ReadonlySet<KpiName> = new Set(['ACTIVE', 'CHURNED', 'RETENTION_RATE', 'PURCHASE_FREQUENCY']);

/**
 * The definition of each KPI under a settings version, as the schema's docstrings state them (with
 * the window's value written in). Kept here so Program.kpiDefinitions and the docs say one thing.
 */
export function kpiDefinition(kpi: KpiName, settings: SettingsVersion): string {
  const w = settings.activeWindowDays;
  const active = `a member is active at an instant T when they made at least one purchase (a PointsAccrued) in [T − ${w} days, T) and were not CLOSED at or before T`;
  switch (kpi) {
    case 'ENROLLED':
      return 'The number of MemberEnrolled events in the bucket (any channel).';
    case 'POINTS_ISSUED':
      return 'Points of PointsAccrued (pending and partner-funded included) plus ReferralBonusCredited, minus what PointsReturned gave back to issuance (fromPending + fromPosted + writtenOff), in the bucket.';
    case 'POINTS_REDEEMED':
      return 'Points of PointsRedeemed minus points of PointsRefunded, in the bucket.';
    case 'POINTS_EXPIRED':
      return 'Points of PointsExpired minus points of PointsReinstated, in the bucket.';
    case 'PURCHASES':
      return 'The number of PointsAccrued events in the bucket.';
    case 'AVERAGE_POINTS_PER_PURCHASE':
      return 'Points of PointsAccrued in the bucket / purchases, rounded half up to 2 decimals; null without purchases.';
    case 'ACTIVE':
      return `Members active at the bucket's end, where ${active}.`;
    case 'CHURNED':
      return `Members active at the bucket's start and not active at its end (a member CLOSED by the end counts as churned), where ${active}.`;
    case 'RETENTION_RATE':
      return `Members active at both the bucket's start and its end / members active at its start, rounded half up to 4 decimals; null when nobody was active at the start. ${active[0]!.toUpperCase()}${active.slice(1)}.`;
    case 'PURCHASE_FREQUENCY':
      return `Purchases in the bucket / members active at its end (${active}), rounded half up to 2 decimals; null when nobody is active.`;
    case 'AVERAGE_BASKET':
      return "Gross spend of the bucket's purchases that carry their basket's total (returns not subtracted) / those purchases, in their currency, rounded half up to the currency's decimals (EUR 2, JPY 0); null without such purchases or when they are in more than one currency.";
    case 'POINTS_PENDING':
      return "Points still pending at the bucket's end: over every event before the end, pending points of PointsAccrued − points of PointsPosted − fromPending of PointsReturned (as the ledger's pending balance moves).";
    case 'REDEMPTION_RATE':
      return 'pointsRedeemed / pointsIssued of the bucket, rounded half up to 4 decimals; null when nothing was issued (0 or less).';
    case 'REFERRAL_CONVERSION':
      return 'ReferralQualified events in the bucket / MemberEnrolled events in the bucket that carry a referral, rounded half up to 4 decimals; null without such enrolments.';
  }
}
