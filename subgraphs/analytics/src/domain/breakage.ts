/**
 * Breakage from cohorts, by a volume-weighted chain ladder (the actuarial development method,
 * as used for loyalty breakage under IFRS 15.B46 / ASC 606 "historical evidence"):
 *
 * 1. Cohorts: the points members earned (accruals and bonuses, less what returns took back of that
 *    purchase) grouped by the UTC month they were earned.
 * 2. Each member's outflows consume their oldest points first (FIFO, as the ledger's lots expire
 *    soonest first): a redemption (capture, donation) counts as redeemed for the cohorts it
 *    consumes, at the age (whole months from the cohort's month to the outflow's month) it happened;
 *    an expiry counts as expired, final non-redemption; a transfer out, a negative adjustment or a
 *    clawback beyond the purchase's points leave the cohort as neither. A refund gives back the last
 *    redemption's points (and un-counts them at the refund's age); a reinstatement, the last expiry's.
 * 3. Cumulative redeemed by age, C_c(k), for each cohort c up to its age at `asOf`, A_c.
 * 4. Development factors f(k) = Σ C_c(k+1) / Σ C_c(k) over the cohorts with A_c ≥ k+1 (older
 *    cohorts tell how younger ones will develop); 1 when no cohort informs it (no tail beyond the
 *    oldest age seen).
 * 5. A cohort's ultimate redeemed U_c = C_c(A_c) × Π_{k ≥ A_c} f(k), capped at C_c(A_c) + what
 *    it still holds (points already expired or gone can never be redeemed).
 * 6. URR = Σ U_c / Σ E_c (E_c: the cohort's points earned); breakage rate = 1 − URR.
 */

/**
 * EARN: points earned (a cohort's); IN: points received that belong to no cohort (a transfer in, a
 * positive adjustment: counting them as earned would count a transfer twice); UNEARN: a return of
 * that purchase; REDEEM / UNREDEEM: capture or donation / refund; EXPIRE / UNEXPIRE: expiry /
 * reinstatement; OUT: points that left otherwise (transfer out, negative adjustment).
 */
export type MovementKind = 'EARN' | 'IN' | 'UNEARN' | 'REDEEM' | 'UNREDEEM' | 'EXPIRE' | 'UNEXPIRE' | 'OUT';

/** One movement of a member's points, in the order they happened. */
export interface Movement {
  memberId: string;
  at: Date;
  kind: MovementKind;
  /** Positive. */
  points: number;
  /** For EARN and UNEARN: the purchase, so a return takes back that purchase's points. */
  purchaseId?: string | null;
}

export interface Cohort {
  /** The cohort's month, 'YYYY-MM' (UTC). */
  month: string;
  /** Months from the cohort's month to asOf's month. */
  age: number;
  earned: number;
  redeemed: number;
  expired: number;
  /** Points of the cohort members still hold. */
  outstanding: number;
  /** Cumulative redeemed at each age 0..age. */
  cumulativeRedeemed: number[];
  /** Projected ultimate redeemed (step 5). */
  ultimateRedeemed: number;
}

export interface BreakageEstimate {
  cohorts: Cohort[];
  /** f(k) for k = 0 .. oldest age − 1. */
  developmentFactors: number[];
  /** Σ ultimate / Σ earned; null with no points earned. */
  ultimateRedemptionRate: number | null;
  breakageRate: number | null;
}

const monthIndex = (d: Date) => d.getUTCFullYear() * 12 + d.getUTCMonth();
const monthLabel = (index: number) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;

interface Lot {
  /** The earn month's index; null for points of no cohort (IN). */
  cohort: number | null;
  remaining: number;
  purchaseId: string | null;
}

interface CohortTally {
  earned: number;
  redeemedAt: Map<number, number>;
  expired: number;
}

/** Steps 1–6 over the movements up to asOf (later ones are ignored). */
export function estimateBreakage(movements: Movement[], asOf: Date): BreakageEstimate {
  const asOfMonth = monthIndex(asOf);
  const tallies = new Map<number, CohortTally>();
  const tally = (cohort: number) => {
    let t = tallies.get(cohort);
    if (!t) tallies.set(cohort, (t = { earned: 0, redeemedAt: new Map(), expired: 0 }));
    return t;
  };
  const lotsOf = new Map<string, Lot[]>();
  // What the last redemptions and expiries took from which cohort, so refunds and reinstatements put it back.
  const takenOf = new Map<string, { REDEEM: { points: number; lot: Lot }[]; EXPIRE: { points: number; lot: Lot }[] }>();

  const ordered = movements.filter((m) => m.at.getTime() <= asOf.getTime()).sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const m of ordered) {
    const lots = lotsOf.get(m.memberId) ?? [];
    lotsOf.set(m.memberId, lots);
    const taken = takenOf.get(m.memberId) ?? { REDEEM: [], EXPIRE: [] };
    takenOf.set(m.memberId, taken);
    const month = monthIndex(m.at);
    switch (m.kind) {
      case 'EARN':
        lots.push({ cohort: month, remaining: m.points, purchaseId: m.purchaseId ?? null });
        tally(month).earned += m.points;
        break;
      case 'IN':
        lots.push({ cohort: null, remaining: m.points, purchaseId: null });
        break;
      case 'UNEARN': {
        // A return takes back its purchase's points: the cohort earned that much less.
        const lot = lots.find((l) => l.purchaseId !== null && l.purchaseId === m.purchaseId);
        if (!lot || lot.cohort === null) break;
        const back = Math.min(m.points, lot.remaining);
        lot.remaining -= back;
        tally(lot.cohort).earned -= back;
        break;
      }
      case 'REDEEM':
      case 'EXPIRE':
      case 'OUT': {
        let left = m.points;
        for (const lot of lots) {
          if (left === 0) break;
          const take = Math.min(left, lot.remaining);
          if (take === 0) continue;
          lot.remaining -= take;
          left -= take;
          if (m.kind === 'REDEEM') taken.REDEEM.push({ points: take, lot });
          if (m.kind === 'EXPIRE') taken.EXPIRE.push({ points: take, lot });
          if (lot.cohort === null) continue;
          const t = tally(lot.cohort);
          if (m.kind === 'REDEEM') t.redeemedAt.set(month, (t.redeemedAt.get(month) ?? 0) + take);
          if (m.kind === 'EXPIRE') t.expired += take;
        }
        break;
      }
      case 'UNREDEEM':
      case 'UNEXPIRE': {
        const log = m.kind === 'UNREDEEM' ? taken.REDEEM : taken.EXPIRE;
        let left = m.points;
        while (left > 0 && log.length > 0) {
          const last = log.at(-1)!;
          const give = Math.min(left, last.points);
          last.points -= give;
          if (last.points === 0) log.pop();
          last.lot.remaining += give;
          left -= give;
          if (last.lot.cohort === null) continue;
          const t = tally(last.lot.cohort);
          if (m.kind === 'UNREDEEM') t.redeemedAt.set(month, (t.redeemedAt.get(month) ?? 0) - give);
          else t.expired -= give;
        }
        break;
      }
    }
  }

  const outstandingOf = new Map<number, number>();
  for (const lots of lotsOf.values()) for (const lot of lots) if (lot.cohort !== null) outstandingOf.set(lot.cohort, (outstandingOf.get(lot.cohort) ?? 0) + lot.remaining);

  const cohortMonths = [...tallies.keys()].filter((c) => tallies.get(c)!.earned > 0).sort((a, b) => a - b);
  const built = cohortMonths.map((c) => {
    const t = tallies.get(c)!;
    const age = asOfMonth - c;
    const cumulative: number[] = [];
    let running = 0;
    for (let k = 0; k <= age; k++) {
      running += t.redeemedAt.get(c + k) ?? 0;
      cumulative.push(running);
    }
    return { c, t, age, cumulative };
  });
  const oldest = built.reduce((max, b) => Math.max(max, b.age), 0);
  const developmentFactors: number[] = [];
  for (let k = 0; k < oldest; k++) {
    let from = 0;
    let to = 0;
    for (const b of built) {
      if (b.age < k + 1) continue;
      from += b.cumulative[k]!;
      to += b.cumulative[k + 1]!;
    }
    developmentFactors.push(from > 0 ? to / from : 1);
  }
  const cohorts: Cohort[] = built.map(({ c, t, age, cumulative }) => {
    const redeemed = cumulative[age]!;
    const outstanding = outstandingOf.get(c) ?? 0;
    let projected = redeemed;
    for (let k = age; k < developmentFactors.length; k++) projected *= developmentFactors[k]!;
    return {
      month: monthLabel(c),
      age,
      earned: t.earned,
      redeemed,
      expired: t.expired,
      outstanding,
      cumulativeRedeemed: cumulative,
      ultimateRedeemed: Math.min(projected, redeemed + outstanding),
    };
  });
  const earned = cohorts.reduce((n, c) => n + c.earned, 0);
  const ultimate = cohorts.reduce((n, c) => n + c.ultimateRedeemed, 0);
  const urr = earned > 0 ? ultimate / earned : null;
  return { cohorts, developmentFactors, ultimateRedemptionRate: urr, breakageRate: urr === null ? null : 1 - urr };
}
