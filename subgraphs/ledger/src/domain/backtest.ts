import { DomainError, InputError } from '@loyalty-graph/shared';
import { computeEarning, periodStart, type Basket, type CapPeriod, type EarnedLine, type EarningRules } from './earning';
import { LIMITS } from './limits';
import { pointsToReturn, type ReturnedLine } from './returns';

/**
 * Backtests: a period of recorded purchases replayed through a draft rule set with the very
 * function the ledger earns with (computeEarning), compared with what the journal actually gave.
 * Pure and incremental: the service feeds purchases batch after batch in (occurredAt, id) order and
 * never holds the range in memory, only one small record per member.
 */

/** The longest range a backtest replays (a year, leap day included). */
export const BACKTEST_MAX_DAYS = 366;
/**
 * The most purchases a backtest replays in one call. A backtest answers within the request, and
 * the gateway gives a subgraph 30 s: at about 10,000 purchases a second (measured, see the README)
 * 200,000 leave room. Longer histories are backtested range by range.
 */
export const BACKTEST_MAX_PURCHASES = 200_000;

/** One recorded purchase as a backtest replays it. */
export interface ReplayPurchase {
  memberId: string;
  occurredAt: Date;
  basket: Basket;
  /** Quantities per line, as bought (returns are shares of them). */
  quantities: Record<string, number>;
  /** The tier the purchase earned at (what a TIER multiplier matches). */
  tierId: string | null;
  /** What the purchase's accrual entry gave (0 without one). */
  actualPoints: number;
  actualStatusPoints: number;
  /** Returns of the purchase recorded in the range, oldest first: what they asked back. */
  returns: { lines: { lineId: string; quantity: number }[] }[];
  /** What those returns actually took back. */
  actualReturnedPoints: number;
  actualReturnedStatusPoints: number;
}

/** A tier on a ladder: members with at least `threshold` status points in the range reach it. */
export interface LadderTier {
  tierId: string;
  name: string;
  rank: number;
  threshold: number;
}

interface MemberTally {
  actualPoints: number;
  draftPoints: number;
  actualStatus: number;
  draftStatus: number;
  /** The draft's points per cap period so far, as the ledger counts them for caps. */
  caps: Partial<Record<CapPeriod, { start: number; points: number }>>;
}

export interface MemberChange {
  memberId: string;
  actualPoints: number;
  draftPoints: number;
  difference: number;
}

export interface TierCount {
  /** null: below the ladder's lowest threshold. */
  tierId: string | null;
  name: string | null;
  rank: number | null;
  actualThreshold: number | null;
  draftThreshold: number | null;
  actualMembers: number;
  draftMembers: number;
  /** Actual status points judged on the draft ladder: the ladder's effect alone, without the rules'. */
  actualMembersOnDraftLadder: number;
}

export interface BacktestSummary {
  purchases: number;
  /** Purchases the draft refuses (another currency, a line over the points limit): 0 points under it. */
  refusedPurchases: number;
  members: number;
  actualPoints: number;
  draftPoints: number;
  actualStatusPoints: number;
  draftStatusPoints: number;
  membersGaining: number;
  membersLosing: number;
  membersUnchanged: number;
  largestGain: MemberChange | null;
  largestLoss: MemberChange | null;
  tiers: TierCount[];
  membersChangingTier: number;
}

/**
 * Replays purchases through `rules`. Caps count as the ledger counts them when it records: the
 * points earned in the cap's calendar period up to the purchase, returned purchases included
 * (`seed` gives what the member earned in the first period before the range starts). Returns take
 * back, line by line, the same share of the draft's points as they took of the actual ones.
 */
export class BacktestReplay {
  private readonly members = new Map<string, MemberTally>();
  private purchases = 0;
  private refused = 0;

  constructor(
    private readonly rules: EarningRules,
    private readonly from: Date,
  ) {}

  /** The cap periods whose earlier points matter (none without caps: no seed query). */
  get capPeriods(): CapPeriod[] {
    return this.rules.caps.map((c) => c.period);
  }

  /** Whether the member has not been seen yet (the service seeds their caps before replaying them). */
  isNew(memberId: string): boolean {
    return !this.members.has(memberId);
  }

  /** What the member earned before the range in the cap periods the range starts in. */
  seed(memberId: string, earnedBefore: Partial<Record<CapPeriod, number>>): void {
    const tally = this.tally(memberId);
    for (const period of this.capPeriods) tally.caps[period] = { start: periodStart(period, this.from).getTime(), points: earnedBefore[period] ?? 0 };
  }

  add(purchase: ReplayPurchase): void {
    this.purchases++;
    const tally = this.tally(purchase.memberId);
    tally.actualPoints += purchase.actualPoints - purchase.actualReturnedPoints;
    tally.actualStatus += purchase.actualStatusPoints - purchase.actualReturnedStatusPoints;

    const earnedInPeriod: Record<CapPeriod, number> = { DAY: 0, MONTH: 0, YEAR: 0 };
    for (const period of this.capPeriods) {
      const start = periodStart(period, purchase.occurredAt).getTime();
      const counter = tally.caps[period];
      if (!counter || counter.start !== start) tally.caps[period] = { start, points: 0 };
      earnedInPeriod[period] = tally.caps[period]!.points;
    }
    let lines: EarnedLine[];
    let points: number;
    let statusPoints: number;
    try {
      const earning = computeEarning(this.rules, purchase.basket, { tierId: purchase.tierId, occurredAt: purchase.occurredAt, earnedInPeriod });
      ({ lines, points, statusPoints } = earning);
    } catch (error) {
      // What the ledger would have refused to record earns nothing under the draft.
      if (!(error instanceof DomainError) && !(error instanceof InputError)) throw error;
      this.refused++;
      return;
    }
    for (const period of this.capPeriods) tally.caps[period]!.points += points;

    let returnedPoints = 0;
    const earlier: ReturnedLine[] = [];
    const purchased = lines.map((l) => ({ lineId: l.lineId, points: l.points, quantity: purchase.quantities[l.lineId] ?? 1 }));
    for (const ret of purchase.returns) {
      const taken = pointsToReturn(purchased, earlier, ret.lines);
      earlier.push(...taken);
      returnedPoints += taken.reduce((sum, l) => sum + l.points, 0);
    }
    // As the return service does: status points go back one for one, never more than remain.
    const returnedStatus = Math.min(returnedPoints, statusPoints);
    tally.draftPoints += points - returnedPoints;
    tally.draftStatus += statusPoints - returnedStatus;
  }

  /** The comparison: `actualLadder` judges the actual status points, `draftLadder` the draft's. */
  summary(actualLadder: LadderTier[], draftLadder: LadderTier[]): BacktestSummary {
    const summary: BacktestSummary = {
      purchases: this.purchases,
      refusedPurchases: this.refused,
      members: this.members.size,
      actualPoints: 0,
      draftPoints: 0,
      actualStatusPoints: 0,
      draftStatusPoints: 0,
      membersGaining: 0,
      membersLosing: 0,
      membersUnchanged: 0,
      largestGain: null,
      largestLoss: null,
      tiers: [],
      membersChangingTier: 0,
    };
    const draftThreshold = new Map(draftLadder.map((t) => [t.tierId, t.threshold]));
    const actualThreshold = new Map(actualLadder.map((t) => [t.tierId, t.threshold]));
    const byRank = [...new Map([...actualLadder, ...draftLadder].map((t) => [t.tierId, t])).values()].sort((a, b) => a.rank - b.rank);
    const counts = new Map<string | null, TierCount>([
      [null, { tierId: null, name: null, rank: null, actualThreshold: null, draftThreshold: null, actualMembers: 0, draftMembers: 0, actualMembersOnDraftLadder: 0 }],
      ...byRank.map((t): [string, TierCount] => [
        t.tierId,
        { tierId: t.tierId, name: t.name, rank: t.rank, actualThreshold: actualThreshold.get(t.tierId) ?? null, draftThreshold: draftThreshold.get(t.tierId) ?? null, actualMembers: 0, draftMembers: 0, actualMembersOnDraftLadder: 0 },
      ]),
    ]);
    for (const [memberId, tally] of this.members) {
      summary.actualPoints += tally.actualPoints;
      summary.draftPoints += tally.draftPoints;
      summary.actualStatusPoints += tally.actualStatus;
      summary.draftStatusPoints += tally.draftStatus;
      const difference = tally.draftPoints - tally.actualPoints;
      const change = { memberId, actualPoints: tally.actualPoints, draftPoints: tally.draftPoints, difference };
      if (difference > 0) {
        summary.membersGaining++;
        if (!summary.largestGain || difference > summary.largestGain.difference) summary.largestGain = change;
      } else if (difference < 0) {
        summary.membersLosing++;
        if (!summary.largestLoss || difference < summary.largestLoss.difference) summary.largestLoss = change;
      } else summary.membersUnchanged++;
      const actualTier = tierOnLadder(actualLadder, tally.actualStatus);
      const draftTier = tierOnLadder(draftLadder, tally.draftStatus);
      counts.get(actualTier)!.actualMembers++;
      counts.get(draftTier)!.draftMembers++;
      counts.get(tierOnLadder(draftLadder, tally.actualStatus))!.actualMembersOnDraftLadder++;
      if (actualTier !== draftTier) summary.membersChangingTier++;
    }
    summary.tiers = [...counts.values()];
    return summary;
  }

  private tally(memberId: string): MemberTally {
    let tally = this.members.get(memberId);
    if (!tally) {
      tally = { actualPoints: 0, draftPoints: 0, actualStatus: 0, draftStatus: 0, caps: {} };
      this.members.set(memberId, tally);
    }
    return tally;
  }
}

/** The highest-ranked tier whose threshold the status points reach; null below them all. */
export function tierOnLadder(ladder: LadderTier[], statusPoints: number): string | null {
  let best: LadderTier | null = null;
  for (const tier of ladder) if (statusPoints >= tier.threshold && (!best || tier.rank > best.rank)) best = tier;
  return best?.tierId ?? null;
}

/**
 * The ladder a backtest judges the draft's status points on: the current tiers with the draft's
 * thresholds put in. Every tier id must be one of the program's, once; thresholds must not fall as
 * the rank rises (a ladder where a higher tier is easier to reach is a typo, not a design).
 */
export function draftLadder(current: LadderTier[], draft: readonly { tierId: string; threshold: number }[] | null | undefined): LadderTier[] {
  if (!draft) return current;
  if (draft.length > current.length) throw new InputError(`The program has ${current.length} tiers`, 'tierThresholds');
  const byId = new Map(current.map((t) => [t.tierId, t]));
  const given = new Map<string, number>();
  draft.forEach((entry, i) => {
    if (!byId.has(entry.tierId)) throw new InputError(`${entry.tierId} is not one of the program's tiers`, `tierThresholds.${i}.tierId`);
    if (given.has(entry.tierId)) throw new InputError(`Tier ${entry.tierId} is given twice`, `tierThresholds.${i}.tierId`);
    if (!Number.isInteger(entry.threshold) || entry.threshold < 0 || entry.threshold > LIMITS.purchasePoints) {
      throw new InputError(`threshold must be a whole number from 0 to ${LIMITS.purchasePoints}`, `tierThresholds.${i}.threshold`);
    }
    given.set(entry.tierId, entry.threshold);
  });
  const ladder = current.map((t) => ({ ...t, threshold: given.get(t.tierId) ?? t.threshold })).sort((a, b) => a.rank - b.rank);
  for (let i = 1; i < ladder.length; i++) {
    if (ladder[i]!.threshold < ladder[i - 1]!.threshold) {
      throw new InputError(`${ladder[i]!.name} (rank ${ladder[i]!.rank}) would need fewer status points than ${ladder[i - 1]!.name}: thresholds rise with the rank`, 'tierThresholds');
    }
  }
  return ladder;
}

/** Refuses a range a backtest will not replay: empty, backwards or longer than BACKTEST_MAX_DAYS. */
export function checkBacktestRange(from: Date, to: Date): void {
  if (to.getTime() <= from.getTime()) throw new InputError('to must be after from', 'to');
  if (to.getTime() - from.getTime() > BACKTEST_MAX_DAYS * 86_400_000) throw new InputError(`A backtest replays at most ${BACKTEST_MAX_DAYS} days: shorten the range`, 'to');
}
