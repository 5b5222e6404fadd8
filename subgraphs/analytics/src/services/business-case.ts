import { currencyDigits } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { inHoldout } from '../domain/experiments';
import { summarize, welch } from '../domain/statistics';
import type { Experiments } from './experiments';

/**
 * The program's other costs in a range: what fulfilling rewards cost and the partners' settlement
 * net. Implemented by the Costs service (services/costs.ts); taken as an interface so the business
 * case does not depend on how those are learnt.
 */
export interface CostSource {
  between(programId: string, from: Date, to: Date): Promise<{ fulfilmentCost: string; settlementNet: string; currency: string | null }>;
}

export interface MoneyValue {
  amount: string;
  currency: string;
}

export interface BusinessCaseRow {
  from: Date;
  to: Date;
  pointsIssued: bigint;
  pointValue: MoneyValue;
  pointsCost: MoneyValue;
  fulfilmentCost: MoneyValue;
  settlementNet: MoneyValue;
  cost: MoneyValue;
  holdoutShare: string | null;
  membersOutsideHoldout: number;
  holdoutMembers: number;
  spendPerMemberOutsideHoldout: string | null;
  spendPerHoldoutMember: string | null;
  incrementalRevenue: MoneyValue | null;
  incrementalRevenueLow: MoneyValue | null;
  incrementalRevenueHigh: MoneyValue | null;
  netReturn: MoneyValue | null;
  netReturnLow: MoneyValue | null;
  netReturnHigh: MoneyValue | null;
  warnings: string[];
}

/** Decimal strings as integers of millionths: exact for money and point values (rates such as "0.005"). */
const SCALE = 1_000_000n;
function toMicros(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = amount.replace(/^[-+]/, '').split('.');
  const micros = BigInt(whole || '0') * SCALE + BigInt((fraction + '000000').slice(0, 6));
  return negative ? -micros : micros;
}
/** Millionths to the currency's decimals, half away from zero. */
function fromMicros(micros: bigint, digits: number): string {
  const unit = 10n ** BigInt(6 - digits);
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const rounded = (abs + unit / 2n) / unit;
  const base = 10n ** BigInt(digits);
  const text = digits === 0 ? `${rounded}` : `${rounded / base}.${(rounded % base).toString().padStart(digits, '0')}`;
  return negative && rounded !== 0n ? `-${text}` : text;
}
const fromNumber = (value: number): bigint => BigInt(Math.round(value * 1_000_000));

/**
 * What the program costs against what it brings, over [from, to): the points issued valued at the
 * point value plus the other costs, against the incremental revenue the holdout measures.
 */
export class BusinessCases {
  constructor(
    private readonly db: DataSource,
    private readonly experiments: Experiments,
    private readonly costs: CostSource,
  ) {}

  async between(programId: string, from: Date, to: Date, pointValue: MoneyValue): Promise<BusinessCaseRow> {
    const currency = pointValue.currency;
    const digits = currencyDigits(currency);
    const money = (micros: bigint): MoneyValue => ({ amount: fromMicros(micros, digits), currency });
    const warnings: string[] = [];
    const [[issued], others, holdout] = await Promise.all([
      this.db.query(`SELECT coalesce(sum(issuance_points), 0)::text AS points FROM point_facts WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3`, [programId, from, to]) as Promise<{ points: string }[]>,
      this.costs.between(programId, from, to),
      this.experiments.holdout(programId),
    ]);
    const pointsIssued = BigInt(issued!.points);
    // points × value per point: exact in millionths of the currency.
    const pointsCost = pointsIssued * toMicros(pointValue.amount);
    let fulfilment = toMicros(others.fulfilmentCost);
    let settlement = toMicros(others.settlementNet);
    if (others.currency !== null && others.currency !== currency) {
      warnings.push(`Fulfilment and settlement costs are in ${others.currency}, not the point value's ${currency}: left out of the cost.`);
      fulfilment = 0n;
      settlement = 0n;
    }
    const cost = pointsCost + fulfilment + settlement;

    // Every member enrolled before `to`, with their spend in the range (0 for none): the holdout
    // comparison is per member, so members who bought nothing count on both sides.
    const members = (await this.db.query(
      `SELECT ms.member_id AS "memberId", coalesce(sum(f.amount), 0)::float8 AS spend
       FROM member_state ms
       LEFT JOIN point_facts f ON f.program_id = ms.program_id AND f.member_id = ms.member_id AND f.kind = 'ACCRUED' AND f.currency = $4 AND f.occurred_at >= $2 AND f.occurred_at < $3
       WHERE ms.program_id = $1 AND ms.enrolled_at IS NOT NULL AND ms.enrolled_at < $3
       GROUP BY ms.member_id`,
      [programId, from, to, currency],
    )) as { memberId: string; spend: number }[];
    const share = holdout ? Number(holdout.share) : 0;
    const held = members.filter((m) => holdout !== null && inHoldout(holdout.salt, m.memberId, share)).map((m) => m.spend);
    const outside = members.filter((m) => !(holdout !== null && inHoldout(holdout.salt, m.memberId, share))).map((m) => m.spend);
    const heldSummary = summarize(held);
    const outsideSummary = summarize(outside);
    // Welch: outside − holdout per member, then scaled to every member outside the holdout.
    const comparison = welch(heldSummary, outsideSummary);
    if (!holdout || share === 0) warnings.push('The program has no holdout (configureHoldout): incremental revenue cannot be measured.');
    else if (!comparison) warnings.push('Fewer than two members on one side of the holdout: incremental revenue cannot be measured yet.');
    const scale = (perMember: number) => fromNumber(perMember * outside.length);
    const revenue = comparison ? scale(comparison.difference) : null;
    const low = comparison ? scale(comparison.low) : null;
    const high = comparison ? scale(comparison.high) : null;
    return {
      from,
      to,
      pointsIssued,
      pointValue,
      pointsCost: money(pointsCost),
      fulfilmentCost: money(fulfilment),
      settlementNet: money(settlement),
      cost: money(cost),
      holdoutShare: holdout?.share ?? null,
      membersOutsideHoldout: outside.length,
      holdoutMembers: held.length,
      spendPerMemberOutsideHoldout: outside.length ? fromMicros(fromNumber(outsideSummary.mean), digits) : null,
      spendPerHoldoutMember: held.length ? fromMicros(fromNumber(heldSummary.mean), digits) : null,
      incrementalRevenue: revenue === null ? null : money(revenue),
      incrementalRevenueLow: low === null ? null : money(low),
      incrementalRevenueHigh: high === null ? null : money(high),
      netReturn: revenue === null ? null : money(revenue - cost),
      netReturnLow: low === null ? null : money(low - cost),
      netReturnHigh: high === null ? null : money(high - cost),
      warnings,
    };
  }
}
