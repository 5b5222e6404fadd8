/**
 * A partner's funding of the points issued at it (the arithmetic only; services/partner-funding.ts
 * reads and locks). The partners subgraph publishes the terms (`PartnerFundingTermsChanged`, one
 * per agreement version), prepaid top-ups and settled points; the ledger keeps them and applies
 * them at every partner-funded accrual:
 *
 * - the terms in force (the latest version effective at the time) set the mode: prepaidPoints →
 *   PREPAID, creditLimitPoints → CREDIT, neither → UNLIMITED (partners refuses both at once);
 * - PREPAID: the net points issued at the partner (accruals minus returns on its PARTNER_FUNDING
 *   account) since its first prepaid terms took effect, plus the new points, must stay within the
 *   prepaid blocks in effect: every version's prepaidPoints once it took effect (a new version with
 *   a block adds that block: it is what the partner bought with it), plus the top-ups;
 * - CREDIT: the net points issued at the partner ever, minus the points settled (paid for through
 *   settlement), plus the new points, must stay within the credit limit in force.
 */
export type FundingMode = 'UNLIMITED' | 'PREPAID' | 'CREDIT';

export interface FundingTerms {
  version: number;
  effectiveFrom: Date;
  prepaidPoints: number | null;
  creditLimitPoints: number | null;
}

export interface PrepaidTopUp {
  points: number;
  addedAt: Date;
}

/** What the arithmetic needs to know, read by the service. */
export interface FundingFacts {
  terms: readonly FundingTerms[];
  topUps: readonly PrepaidTopUp[];
  /** Net points issued at the partner: accruals minus returns, pending included. */
  issued: { total: number; sincePrepaid: number };
  settled: number;
}

export interface FundingState {
  mode: FundingMode;
  /** The terms in force; null before the first version takes effect. */
  terms: FundingTerms | null;
  /** Every prepaid block in effect: the versions' and the top-ups. */
  prepaidPoints: number;
  /** The net points that count against the limit: since the first prepaid terms in PREPAID mode, ever otherwise. */
  netIssued: number;
  settled: number;
  creditLimitPoints: number | null;
  /** Points the partner may still fund; null when unlimited. Negative when terms were lowered below what was issued. */
  remaining: number | null;
}

/** The version in force at `at`: the latest effective then or earlier; null before the first. */
export function termsInForce(terms: readonly FundingTerms[], at: Date): FundingTerms | null {
  let found: FundingTerms | null = null;
  for (const t of terms) {
    if (t.effectiveFrom.getTime() <= at.getTime() && (!found || t.effectiveFrom.getTime() > found.effectiveFrom.getTime())) found = t;
  }
  return found;
}

export function modeOf(terms: FundingTerms | null): FundingMode {
  if (terms?.prepaidPoints != null) return 'PREPAID';
  if (terms?.creditLimitPoints != null) return 'CREDIT';
  return 'UNLIMITED';
}

/** When the partner's first prepaid terms took effect (issuance counts against blocks from then); null if none has yet. */
export function prepaidSince(terms: readonly FundingTerms[], at: Date): Date | null {
  let since: Date | null = null;
  for (const t of terms) {
    if (t.prepaidPoints == null || t.effectiveFrom.getTime() > at.getTime()) continue;
    if (!since || t.effectiveFrom.getTime() < since.getTime()) since = t.effectiveFrom;
  }
  return since;
}

export function fundingState(facts: FundingFacts, at: Date): FundingState {
  const terms = termsInForce(facts.terms, at);
  const mode = modeOf(terms);
  const inEffect = (time: Date) => time.getTime() <= at.getTime();
  const prepaidPoints =
    facts.terms.reduce((sum, t) => sum + (t.prepaidPoints != null && inEffect(t.effectiveFrom) ? t.prepaidPoints : 0), 0) +
    facts.topUps.reduce((sum, b) => sum + (inEffect(b.addedAt) ? b.points : 0), 0);
  const creditLimitPoints = mode === 'CREDIT' ? terms!.creditLimitPoints : null;
  const netIssued = mode === 'PREPAID' ? facts.issued.sincePrepaid : facts.issued.total;
  let remaining: number | null = null;
  if (mode === 'PREPAID') remaining = prepaidPoints - netIssued;
  if (mode === 'CREDIT') remaining = creditLimitPoints! - (netIssued - facts.settled);
  return { mode, terms, prepaidPoints, netIssued, settled: facts.settled, creditLimitPoints, remaining };
}

/** Whether the partner may fund `points` more now. */
export function admits(state: FundingState, points: number): boolean {
  return state.remaining === null || points <= state.remaining;
}
