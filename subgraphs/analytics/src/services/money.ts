import { badUserInput, currencyDigits } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { estimateBreakage, type BreakageEstimate, type Movement, type MovementKind } from '../domain/breakage';
import { allocate, recognise } from '../domain/ifrs15';
import { formatScaled, toScaled, valuePoints } from '../domain/money';

/** A program's point value, as members owns it (Program.pointValue, through @requires). */
export interface PointValue {
  amount: string;
  currency: string;
}

interface Amount {
  amount: string;
  currency: string;
}

export interface Liability {
  asOf: Date;
  outstandingPoints: bigint;
  postedPoints: bigint;
  pendingPoints: bigint;
  pointValue: Amount;
  outstanding: Amount;
  posted: Amount;
  pending: Amount;
}

export interface DeferredRevenue {
  from: Date;
  to: Date;
  transactionPrice: Amount;
  pointsIssued: bigint;
  expectedRedemptionRate: number;
  allocatedToPoints: Amount;
  allocatedToGoods: Amount;
  revenueFromPoints: Amount;
  contractLiabilityAtStart: Amount;
  contractLiabilityAtEnd: Amount;
}

/** How each point fact moves a member's points in the cohort method (domain/breakage.ts). */
function movementKind(kind: string, memberDelta: number): MovementKind | null {
  switch (kind) {
    case 'ACCRUED':
    case 'BONUS':
      return 'EARN';
    case 'RETURNED':
      return 'UNEARN';
    case 'REDEEMED':
    case 'DONATED': // a donation spends points as a redemption does: the program's obligation is met
      return 'REDEEM';
    case 'REFUNDED':
      return 'UNREDEEM';
    case 'EXPIRED':
      return 'EXPIRE';
    case 'REINSTATED':
      return 'UNEXPIRE';
    case 'ADJUSTED':
    case 'TRANSFERRED':
      return memberDelta >= 0 ? 'IN' : 'OUT';
    default:
      return null; // POSTED: pending to posted, no movement of the balance
  }
}

/** Liability, breakage and IFRS 15 deferred revenue, all from point_facts (definitions in schema.graphql). */
export class Finance {
  constructor(private readonly db: DataSource) {}

  /** Outstanding points as of an instant: Σ member_delta (posted and pending) and Σ pending_delta (pending) of facts at or before it. */
  async outstanding(programId: string, asOf: Date | null): Promise<{ outstanding: bigint; pending: bigint }> {
    const [row] = (await this.db.query(
      `SELECT coalesce(sum(member_delta), 0)::text AS outstanding, coalesce(sum(pending_delta), 0)::text AS pending
         FROM point_facts WHERE program_id = $1 AND ($2::timestamptz IS NULL OR occurred_at <= $2)`,
      [programId, asOf],
    )) as { outstanding: string; pending: string }[];
    return { outstanding: BigInt(row!.outstanding), pending: BigInt(row!.pending) };
  }

  /** Points issued over [from, to), net of returns, bonuses included: ProgramKpiBucket.pointsIssued's definition. */
  async issued(programId: string, from: Date, to: Date): Promise<bigint> {
    const [row] = (await this.db.query(
      `SELECT coalesce(sum(issuance_points), 0)::text AS issued FROM point_facts WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
      [programId, from, to],
    )) as { issued: string }[];
    return BigInt(row!.issued);
  }

  async liability(programId: string, asOf: Date, pointValue: PointValue): Promise<Liability> {
    const { outstanding, pending } = await this.outstanding(programId, asOf);
    const digits = currencyDigits(pointValue.currency);
    const money = (points: bigint) => ({ amount: valuePoints(points, pointValue.amount, digits), currency: pointValue.currency });
    return {
      asOf,
      outstandingPoints: outstanding,
      postedPoints: outstanding - pending,
      pendingPoints: pending,
      pointValue,
      outstanding: money(outstanding),
      posted: money(outstanding - pending),
      pending: money(pending),
    };
  }

  async breakage(programId: string, asOf: Date): Promise<BreakageEstimate> {
    return estimateBreakage(await this.movements(programId, asOf), asOf);
  }

  /** Every balance movement of the program up to asOf, in order, for the cohort method. */
  private async movements(programId: string, asOf: Date): Promise<Movement[]> {
    const rows = (await this.db.query(
      `SELECT member_id AS "memberId", occurred_at AS at, kind, points::int AS points, member_delta::int AS "memberDelta", purchase_id AS "purchaseId"
         FROM point_facts WHERE program_id = $1 AND occurred_at <= $2 AND kind <> 'POSTED'
        ORDER BY occurred_at, event_id`,
      [programId, asOf],
    )) as { memberId: string; at: Date; kind: string; points: number; memberDelta: number; purchaseId: string | null }[];
    const movements: Movement[] = [];
    for (const row of rows) {
      const kind = movementKind(row.kind, row.memberDelta);
      if (!kind) continue;
      // A return takes back what it took from the member (fromPending + fromPosted); the rest was written off.
      const points = kind === 'UNEARN' || kind === 'IN' || kind === 'OUT' ? Math.abs(row.memberDelta) : row.points;
      if (points > 0) movements.push({ memberId: row.memberId, at: new Date(row.at), kind, points, purchaseId: row.purchaseId });
    }
    return movements;
  }

  /**
   * IFRS 15 figures to an instant (exclusive), cumulative since the program began. Each month's
   * sales are allocated once, with the URR estimated from the history before that month (the
   * estimate in force when they were made, re-estimated monthly): IFRS fixes an allocation at
   * inception. Recognition uses the URR as of the instant, so a revised estimate catches up.
   */
  private async ifrs15At(programId: string, at: Date, pointValue: PointValue) {
    const last = new Date(at.getTime() - 1);
    const months = (await this.db.query(
      `SELECT (date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS month, sum(amount)::text AS price, sum(points)::text AS points
         FROM point_facts WHERE program_id = $1 AND kind = 'ACCRUED' AND currency = $3 AND amount IS NOT NULL AND occurred_at < $2
        GROUP BY 1 ORDER BY 1`,
      [programId, at, pointValue.currency],
    )) as { month: Date; price: string; points: string }[];
    const [row] = (await this.db.query(
      `SELECT (coalesce(sum(points) FILTER (WHERE kind IN ('REDEEMED', 'DONATED')), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0))::text AS redeemed
         FROM point_facts WHERE program_id = $1 AND occurred_at < $2`,
      [programId, at],
    )) as { redeemed: string }[];
    const movements = await this.movements(programId, last);
    // With no history yet, expect every point to be redeemed: the most revenue deferred.
    const rateAt = (instant: Date) => estimateBreakage(movements, instant).ultimateRedemptionRate ?? 1;
    const expected = (points: bigint, rate: number) => BigInt(Math.round(Number(points) * rate));
    const digits = currencyDigits(pointValue.currency);
    const value = toScaled(pointValue.amount);
    let price = 0n;
    let points = 0n;
    let toPoints = 0n;
    let toGoods = 0n;
    for (const month of months) {
      const monthPrice = toScaled(month.price);
      const monthPoints = BigInt(month.points);
      const rate = rateAt(new Date(new Date(month.month).getTime() - 1));
      const allocation = allocate({ transactionPrice: monthPrice, points: monthPoints, pointValue: value, expectedRedeemed: expected(monthPoints, rate), digits });
      price += monthPrice;
      points += monthPoints;
      toPoints += allocation.toPoints;
      toGoods += allocation.toGoods;
    }
    const rate = rateAt(last);
    const recognised = recognise({ toPoints, redeemed: BigInt(row!.redeemed), expectedRedeemed: expected(points, rate), digits });
    return { price, points, rate, allocation: { toPoints, toGoods }, recognised };
  }

  async deferredRevenue(programId: string, from: Date, to: Date, pointValue: PointValue): Promise<DeferredRevenue> {
    if (to.getTime() <= from.getTime()) throw badUserInput('`to` must be after `from`', 'to');
    const [start, end] = [await this.ifrs15At(programId, from, pointValue), await this.ifrs15At(programId, to, pointValue)];
    const digits = currencyDigits(pointValue.currency);
    const money = (scaled: bigint) => ({ amount: formatScaled(scaled, digits), currency: pointValue.currency });
    return {
      from,
      to,
      transactionPrice: money(end.price - start.price),
      pointsIssued: end.points - start.points,
      expectedRedemptionRate: end.rate,
      allocatedToPoints: money(end.allocation.toPoints - start.allocation.toPoints),
      allocatedToGoods: money(end.allocation.toGoods - start.allocation.toGoods),
      revenueFromPoints: money(end.recognised.cumulativeRevenue - start.recognised.cumulativeRevenue),
      contractLiabilityAtStart: money(start.recognised.contractLiability),
      contractLiabilityAtEnd: money(end.recognised.contractLiability),
    };
  }
}
