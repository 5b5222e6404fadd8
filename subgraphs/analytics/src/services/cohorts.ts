import { InputError } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { checkCohortMonths, cohortMonths, MAX_COHORTS, type CohortMonth } from '../domain/cohorts';
import { bucketsBetween } from '../domain/periods';
import { memberConditions, Params, pointConditions, type KpiFilter } from './kpi-filter';

export interface Cohort {
  /** The enrolment month's first instant (UTC). */
  month: Date;
  size: number;
  retention: CohortMonth[];
}

/** Retention of members by the month they enrolled in: who bought again 0, 1, … months later. */
export class Cohorts {
  constructor(private readonly db: DataSource) {}

  async retention(programId: string, from: Date, to: Date, months: number, filter: KpiFilter, now: Date): Promise<Cohort[]> {
    checkCohortMonths(months);
    const planned = bucketsBetween('MONTH', from, to);
    if (!planned.ok) throw new InputError(planned.message, 'to');
    if (planned.buckets.length > MAX_COHORTS) throw new InputError(`at most ${MAX_COHORTS} enrolment months per request`, 'to');
    const params = new Params();
    const program = params.add(programId);
    const first = params.add(planned.buckets[0]!.start);
    const last = params.add(planned.buckets.at(-1)!.end);
    const memberFilter = memberConditions('m', filter, params);
    const span = params.add(months + 1);
    const pointFilter = pointConditions('f', filter, params);
    const rows = (await this.db.query(
      `WITH cohort AS (
         SELECT m.member_id, (date_trunc('month', m.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS month
           FROM member_facts m
          WHERE m.program_id = ${program} AND m.kind = 'ENROLLED' AND m.occurred_at >= ${first} AND m.occurred_at < ${last}${memberFilter}
       ), bought AS (
         SELECT DISTINCT c.month, c.member_id, (date_trunc('month', f.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS bought_in
           FROM cohort c
           JOIN point_facts f ON f.program_id = ${program} AND f.member_id = c.member_id AND f.kind = 'ACCRUED'
            AND f.occurred_at >= c.month AND f.occurred_at < ((c.month AT TIME ZONE 'UTC') + make_interval(months => ${span}::int)) AT TIME ZONE 'UTC'${pointFilter}
       )
       SELECT c.month, NULL::timestamptz AS bought_in, count(*)::int AS n FROM cohort c GROUP BY c.month
       UNION ALL
       SELECT b.month, b.bought_in, count(*)::int FROM bought b GROUP BY b.month, b.bought_in`,
      params.values,
    )) as { month: Date; bought_in: Date | null; n: number }[];
    const sizes = new Map<number, number>();
    const purchasers = new Map<number, Map<number, number>>();
    for (const row of rows) {
      const month = new Date(row.month);
      const key = month.getTime();
      if (row.bought_in === null) {
        sizes.set(key, row.n);
        continue;
      }
      const bought = new Date(row.bought_in);
      const offset = (bought.getUTCFullYear() - month.getUTCFullYear()) * 12 + bought.getUTCMonth() - month.getUTCMonth();
      const byOffset = purchasers.get(key) ?? new Map<number, number>();
      byOffset.set(offset, row.n);
      purchasers.set(key, byOffset);
    }
    return planned.buckets.map(({ start }) => {
      const size = sizes.get(start.getTime()) ?? 0;
      return { month: start, size, retention: cohortMonths(start, size, purchasers.get(start.getTime()) ?? new Map(), months, now) };
    });
  }
}
