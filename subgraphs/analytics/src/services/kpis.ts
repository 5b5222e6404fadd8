import { badUserInput } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { bucketsBetween, type Period } from '../domain/periods';

/** One bucket's KPIs; the definitions are in schema.graphql (ProgramKpiBucket). */
export interface KpiBucket {
  period: Period;
  start: Date;
  end: Date;
  enrolled: number;
  pointsIssued: bigint;
  pointsRedeemed: bigint;
  pointsExpired: bigint;
  purchases: number;
  accruedPoints: bigint;
}

/** The three totals the ledger also knows (ProgramPointsTotals), to date. */
export interface PointTotals {
  issued: bigint;
  redeemed: bigint;
  expired: bigint;
}

/** Sums the facts per UTC bucket. The PostgreSQL date_trunc of each period matches domain/periods.ts (weeks start on Monday). */
export class Kpis {
  constructor(private readonly db: DataSource) {}

  async buckets(programId: string, period: Period, from: Date, to: Date): Promise<KpiBucket[]> {
    const planned = bucketsBetween(period, from, to);
    if (!planned.ok) throw badUserInput(planned.message);
    const first = planned.buckets[0]!.start;
    const last = planned.buckets.at(-1)!.end;
    const unit = period.toLowerCase();
    const points = (await this.db.query(
      `SELECT (date_trunc($4, occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS start,
              coalesce(sum(issuance_points), 0)::text AS issued,
              (coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0))::text AS redeemed,
              (coalesce(sum(points) FILTER (WHERE kind = 'EXPIRED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REINSTATED'), 0))::text AS expired,
              count(*) FILTER (WHERE kind = 'ACCRUED')::int AS purchases,
              coalesce(sum(points) FILTER (WHERE kind = 'ACCRUED'), 0)::text AS accrued
         FROM point_facts
        WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3
        GROUP BY 1`,
      [programId, first, last, unit],
    )) as { start: Date; issued: string; redeemed: string; expired: string; purchases: number; accrued: string }[];
    const members = (await this.db.query(
      `SELECT (date_trunc($4, occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS start, count(*)::int AS enrolled
         FROM member_facts
        WHERE program_id = $1 AND kind = 'ENROLLED' AND occurred_at >= $2 AND occurred_at < $3
        GROUP BY 1`,
      [programId, first, last, unit],
    )) as { start: Date; enrolled: number }[];
    const pointsAt = new Map(points.map((row) => [new Date(row.start).getTime(), row]));
    const membersAt = new Map(members.map((row) => [new Date(row.start).getTime(), row]));
    return planned.buckets.map(({ start, end }) => {
      const p = pointsAt.get(start.getTime());
      return {
        period,
        start,
        end,
        enrolled: membersAt.get(start.getTime())?.enrolled ?? 0,
        pointsIssued: BigInt(p?.issued ?? 0),
        pointsRedeemed: BigInt(p?.redeemed ?? 0),
        pointsExpired: BigInt(p?.expired ?? 0),
        purchases: p?.purchases ?? 0,
        accruedPoints: BigInt(p?.accrued ?? 0),
      };
    });
  }

  /** Issued, redeemed and expired over every fact of the program, defined as the ledger's totals are. */
  async totals(programId: string): Promise<PointTotals> {
    const [row] = (await this.db.query(
      `SELECT coalesce(sum(issuance_points), 0)::text AS issued,
              (coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0))::text AS redeemed,
              (coalesce(sum(points) FILTER (WHERE kind = 'EXPIRED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REINSTATED'), 0))::text AS expired
         FROM point_facts WHERE program_id = $1`,
      [programId],
    )) as { issued: string; redeemed: string; expired: string }[];
    return { issued: BigInt(row!.issued), redeemed: BigInt(row!.redeemed), expired: BigInt(row!.expired) };
  }
}
