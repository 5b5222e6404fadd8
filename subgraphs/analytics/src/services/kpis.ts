import { badUserInput } from '@loyalty-graph/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { dayNumber, retained } from '../domain/activity-coverage';
import { isLongBucket } from '../domain/activity-long-buckets';
import { settingsAt } from '../domain/kpi-definitions';
import type { Activity } from '../domain/kpi-formulas';
import { bucketsBetween, type Bucket, type Period } from '../domain/periods';
import type { AnalyticsSettings } from './analytics-settings';
import { dayConditions, memberConditions, Params, pointConditions, type KpiFilter } from './kpi-filter';

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
  /** The analytics settings version in force at the bucket's start, and its window. */
  definitionVersion: number;
  activeWindowDays: number;
  /**
   * Members active at the end, at the start, at both, and churned: loaded on first use, once for
   * every bucket of the request, because it is the one costly figure (see the README's Performance).
   */
  activity(): Promise<Activity>;
  /** Purchases carrying their basket's total, per currency, with their gross spend. */
  baskets: { currency: string; spend: string; purchases: number }[];
  pointsPending: bigint;
  /** Enrolments carrying a referral, and ReferralQualified events. */
  referredEnrolments: number;
  referralsQualified: number;
}

/** How one bucket's activity is read from the rollups (Kpis.rolledUpActivity). */
interface RollupPlan {
  key: number;
  /** Day numbers of the bucket's start and (exclusive) end, and its window. */
  start: number;
  end: number;
  w: number;
  length: number;
  /** Longer than its window: retained read from activity_retained. */
  long: boolean;
}

/** The activity query's budget: under the gateway's 30 s and the kit's statement timeout. */
export const ACTIVITY_BUDGET_MS = 25_000;

const isMidnight = (at: Date) => at.getTime() % 86_400_000 === 0;
const isEmptyFilter = (filter: KpiFilter) => !filter.tierId && !filter.partnerId && !filter.channel && !filter.segmentId;

/** The three totals the ledger also knows (ProgramPointsTotals), to date. */
export interface PointTotals {
  issued: bigint;
  redeemed: bigint;
  expired: bigint;
}

/**
 * Sums the facts per bucket. Buckets are passed to PostgreSQL as arrays of [start, end) and joined
 * by range on (program_id, occurred_at), so a calendar bucket (domain/periods.ts) and a criterion's
 * free range are computed by the same SQL.
 */
export class Kpis {
  constructor(
    private readonly db: DataSource,
    private readonly settings?: AnalyticsSettings,
    /** How long the activity query may run (lowered only by tests, to see the refusal). */
    private readonly activityBudgetMs = ACTIVITY_BUDGET_MS,
  ) {}

  async buckets(programId: string, period: Period, from: Date, to: Date, filter: KpiFilter = {}): Promise<KpiBucket[]> {
    const planned = bucketsBetween(period, from, to);
    if (!planned.ok) throw badUserInput(planned.message);
    return this.compute(programId, period, planned.buckets, filter);
  }

  /** The KPIs of contiguous buckets in time order, each with the settings version in force at its start. */
  async compute(programId: string, period: Period, buckets: readonly Bucket[], filter: KpiFilter): Promise<KpiBucket[]> {
    const versions = this.settings ? await this.settings.versions(programId) : [];
    const inForce = buckets.map((b) => settingsAt(versions, b.start));
    const starts = buckets.map((b) => b.start);
    const ends = buckets.map((b) => b.end);
    const windows = inForce.map((v) => v.activeWindowDays);
    const bucketsSql = (params: Params) => `unnest(${params.add(starts)}::timestamptz[], ${params.add(ends)}::timestamptz[], ${params.add(windows)}::int[]) AS b(start, "end", window_days)`;

    // Calendar buckets (whole UTC days) sum the daily rollups: without a filter point_days etc.,
    // with a tier, partner and/or channel the rollups per dimension (point_days_by etc.). A
    // segment (members in it now, not a dimension a fact keeps), or a span not on day boundaries
    // (a success criterion's range), reads the facts. `daily` (unfiltered) also picks activity's path.
    const midnights = buckets.every((b) => isMidnight(b.start) && isMidnight(b.end));
    const daily = isEmptyFilter(filter) && midnights;
    const rolled = midnights && !filter.segmentId;
    const by = daily ? '' : '_by';
    const days = (alias: string) => `${alias}.day >= (b.start AT TIME ZONE 'UTC')::date AND ${alias}.day < (b."end" AT TIME ZONE 'UTC')::date`;

    let params = new Params();
    let program = params.add(programId);
    let from = bucketsSql(params);
    const points = (await this.db.query(
      rolled
        ? `SELECT b.start, coalesce(sum(d.issued), 0)::text AS issued, coalesce(sum(d.redeemed), 0)::text AS redeemed, coalesce(sum(d.expired), 0)::text AS expired,
                  coalesce(sum(d.purchases), 0)::int AS purchases, coalesce(sum(d.accrued), 0)::text AS accrued, coalesce(sum(d.pending_delta), 0)::text AS pending_delta
             FROM ${from} JOIN point_days${by} d ON d.program_id = ${program} AND ${days('d')}${dayConditions('d', filter, params)}
            GROUP BY b.start`
        : `SELECT b.start,
              coalesce(sum(f.issuance_points), 0)::text AS issued,
              (coalesce(sum(f.points) FILTER (WHERE f.kind = 'REDEEMED'), 0) - coalesce(sum(f.points) FILTER (WHERE f.kind = 'REFUNDED'), 0))::text AS redeemed,
              (coalesce(sum(f.points) FILTER (WHERE f.kind = 'EXPIRED'), 0) - coalesce(sum(f.points) FILTER (WHERE f.kind = 'REINSTATED'), 0))::text AS expired,
              count(*) FILTER (WHERE f.kind = 'ACCRUED')::int AS purchases,
              coalesce(sum(f.points) FILTER (WHERE f.kind = 'ACCRUED'), 0)::text AS accrued,
              coalesce(sum(f.pending_delta), 0)::text AS pending_delta
         FROM ${from} JOIN point_facts f ON f.program_id = ${program} AND f.occurred_at >= b.start AND f.occurred_at < b."end"${pointConditions('f', filter, params)}
        GROUP BY b.start`,
      params.values,
    )) as { start: Date; issued: string; redeemed: string; expired: string; purchases: number; accrued: string; pending_delta: string }[];

    params = new Params();
    program = params.add(programId);
    from = bucketsSql(params);
    const baskets = (await this.db.query(
      rolled
        ? `SELECT b.start, trim(d.currency) AS currency, sum(d.purchases)::int AS purchases, sum(d.spend)::text AS spend
             FROM ${from} JOIN purchase_days${by} d ON d.program_id = ${program} AND ${days('d')}${dayConditions('d', filter, params)}
            GROUP BY b.start, d.currency HAVING sum(d.purchases) <> 0 ORDER BY d.currency`
        : `SELECT b.start, trim(f.currency) AS currency, count(*)::int AS purchases, sum(f.amount)::text AS spend
         FROM ${from} JOIN point_facts f ON f.program_id = ${program} AND f.kind = 'ACCRUED' AND f.occurred_at >= b.start AND f.occurred_at < b."end"
              AND f.amount IS NOT NULL AND f.currency IS NOT NULL${pointConditions('f', filter, params)}
        GROUP BY b.start, f.currency ORDER BY f.currency`,
      params.values,
    )) as { start: Date; currency: string; purchases: number; spend: string }[];

    params = new Params();
    program = params.add(programId);
    from = bucketsSql(params);
    const members = (await this.db.query(
      rolled
        ? `SELECT b.start, coalesce(sum(d.enrolled), 0)::int AS enrolled, coalesce(sum(d.referred), 0)::int AS referred, coalesce(sum(d.qualified), 0)::int AS qualified
             FROM ${from} JOIN member_days${by} d ON d.program_id = ${program} AND ${days('d')}${dayConditions('d', filter, params, false)}
            GROUP BY b.start`
        : `SELECT b.start,
              count(*) FILTER (WHERE m.kind = 'ENROLLED')::int AS enrolled,
              count(*) FILTER (WHERE m.kind = 'ENROLLED' AND m.referral_id IS NOT NULL)::int AS referred,
              count(*) FILTER (WHERE m.kind = 'REFERRAL_QUALIFIED')::int AS qualified
         FROM ${from} JOIN member_facts m ON m.program_id = ${program} AND m.kind IN ('ENROLLED', 'REFERRAL_QUALIFIED') AND m.occurred_at >= b.start AND m.occurred_at < b."end"${memberConditions('m', filter, params)}
        GROUP BY b.start`,
      params.values,
    )) as { start: Date; enrolled: number; referred: number; qualified: number }[];

    // Activity only when a field asks for it (one query for all the buckets, run at most once).
    let activityRows: Promise<Map<number, Activity>> | undefined;
    // Unfiltered calendar buckets read the activity rollups when their windows are built (see
    // activity-rollups.ts); a filter, a span off day boundaries or a span longer than its window
    // that is no calendar bucket (a criterion's range: only that span) scans the purchases.
    const activity = () => (activityRows ??= daily ? this.dailyActivity(programId, buckets, windows) : this.activity(programId, bucketsSql, filter));

    // Pending at each end: what was pending before the first bucket, plus each bucket's moves.
    params = new Params();
    program = params.add(programId);
    const first = params.add(buckets[0]!.start);
    const [before] = (await this.db.query(
      rolled
        ? `SELECT coalesce(sum(d.pending_delta), 0)::text AS pending FROM point_days${by} d
            WHERE d.program_id = ${program} AND d.day < (${first}::timestamptz AT TIME ZONE 'UTC')::date${dayConditions('d', filter, params)}`
        : `SELECT coalesce(sum(f.pending_delta), 0)::text AS pending FROM point_facts f
        WHERE f.program_id = ${program} AND f.pending_delta <> 0 AND f.occurred_at < ${first}${pointConditions('f', filter, params)}`,
      params.values,
    )) as { pending: string }[];

    const at = <T extends { start: Date }>(rows: T[]) => new Map(rows.map((row) => [new Date(row.start).getTime(), row]));
    const pointsAt = at(points);
    const membersAt = at(members);
    const basketsAt = new Map<number, KpiBucket['baskets']>();
    for (const row of baskets) {
      const key = new Date(row.start).getTime();
      basketsAt.set(key, [...(basketsAt.get(key) ?? []), { currency: row.currency, spend: row.spend, purchases: row.purchases }]);
    }
    let pending = BigInt(before!.pending);
    return buckets.map(({ start, end }, i) => {
      const key = start.getTime();
      const p = pointsAt.get(key);
      const m = membersAt.get(key);
      pending += BigInt(p?.pending_delta ?? 0);
      return {
        period,
        start,
        end,
        enrolled: m?.enrolled ?? 0,
        pointsIssued: BigInt(p?.issued ?? 0),
        pointsRedeemed: BigInt(p?.redeemed ?? 0),
        pointsExpired: BigInt(p?.expired ?? 0),
        purchases: p?.purchases ?? 0,
        accruedPoints: BigInt(p?.accrued ?? 0),
        definitionVersion: inForce[i]!.version,
        activeWindowDays: inForce[i]!.activeWindowDays,
        activity: async () => (await activity()).get(key) ?? { active: 0, activeAtStart: 0, retained: 0, churned: 0 },
        baskets: basketsAt.get(key) ?? [],
        pointsPending: pending,
        referredEnrolments: m?.referred ?? 0,
        referralsQualified: m?.qualified ?? 0,
      };
    });
  }

  /**
   * The activity of unfiltered buckets on UTC midnights from the rollups (domain/activity-coverage.ts),
   * or null when it cannot: a bucket longer than its window that is not a calendar bucket (a
   * criterion's range), or a window the program has not built yet. A bucket of L ≤ W days reads
   * running sums of activity_days; a calendar bucket longer than W reads active at its ends there
   * and its retained count from activity_retained (domain/activity-long-buckets.ts). The same
   * numbers as the scan (tested on random histories in test/activity-rollups.test.ts).
   */
  async rolledUpActivity(programId: string, buckets: readonly Bucket[], windows: readonly number[]): Promise<Map<number, Activity> | null> {
    const plan = buckets.map((b, i) => {
      const start = dayNumber(b.start);
      const end = dayNumber(b.end);
      const w = windows[i]!;
      return { key: b.start.getTime(), start, end, w, length: end - start, long: end - start > w };
    });
    if (plan.some((p) => p.long && !isLongBucket(p.w, p.start, p.end))) return null;
    return this.withinBudget((tx) => this.fromRollups(tx, programId, buckets, plan));
  }

  private async fromRollups(tx: EntityManager, programId: string, buckets: readonly Bucket[], plan: RollupPlan[]): Promise<Map<number, Activity> | null> {
    // Day rows of W (and of W + L for the short buckets); long buckets' counts of W.
    const needed = [...new Set(plan.flatMap((p) => (p.long ? [p.w] : [p.w, p.w + p.length])))];
    const neededLong = [...new Set(plan.filter((p) => p.long).map((p) => p.w))];
    const [built] = (await tx.query(
      `SELECT (SELECT count(*) FROM activity_windows WHERE program_id = $1 AND window_days = ANY($2::int[]))::int AS days,
              (SELECT count(*) FROM activity_retained_windows WHERE program_id = $1 AND window_days = ANY($3::int[]))::int AS long`,
      [programId, needed, neededLong],
    )) as { days: number; long: number }[];
    if (built!.days < needed.length || built!.long < neededLong.length) return null;

    // Running sums at each (window, midnight) asked: a few hundred day rows per window at most.
    const points = plan.flatMap((p) => [[p.w, p.start], [p.w, p.end], ...(p.long ? [] : [[p.w + p.length, p.end]])]);
    const sums = (await tx.query(
      `SELECT q.w, q.day, (SELECT coalesce(sum(a.delta), 0) FROM activity_days a
                             WHERE a.program_id = $1 AND a.window_days = q.w AND a.day <= date '1970-01-01' + q.day)::int AS active
         FROM unnest($2::int[], $3::int[]) AS q(w, day)`,
      [programId, points.map((x) => x[0]), points.map((x) => x[1])],
    )) as { w: number; day: number; active: number }[];
    const activeAt = new Map(sums.map((r) => [`${r.w}:${r.day}`, r.active]));

    const long = plan.filter((p) => p.long);
    const kept =
      long.length === 0
        ? []
        : ((await tx.query(
            `SELECT r.window_days AS w, (r.from_day - date '1970-01-01') AS start, (r.to_day - date '1970-01-01') AS "end", r.retained
               FROM unnest($2::int[], $3::int[], $4::int[]) AS q(w, s, e)
               JOIN activity_retained r ON r.program_id = $1 AND r.window_days = q.w AND r.from_day = date '1970-01-01' + q.s AND r.to_day = date '1970-01-01' + q.e`,
            [programId, long.map((p) => p.w), long.map((p) => p.start), long.map((p) => p.end)],
          )) as { w: number; start: number; end: number; retained: number }[]);
    // A built window has a row for every bucket someone is retained over: no row is 0.
    const retainedOver = new Map(kept.map((r) => [`${r.w}:${r.start}:${r.end}`, r.retained]));

    // Members CLOSED within a short bucket who were active at its start: few, read from the facts.
    const short = buckets.filter((_, i) => !plan[i]!.long);
    const shortWindows = plan.filter((p) => !p.long).map((p) => p.w);
    const closing =
      short.length === 0
        ? []
        : ((await tx.query(
            `WITH closed AS (
               SELECT c.member_id, min(c.occurred_at) AS closed_at FROM member_facts c
                WHERE c.program_id = $1 AND c.kind = 'STATUS_CHANGED' AND c.to_status = 'CLOSED' GROUP BY c.member_id)
             SELECT b.start, count(*)::int AS closed
               FROM unnest($2::timestamptz[], $3::timestamptz[], $4::int[]) AS b(start, "end", window_days)
               JOIN closed ON closed.closed_at > b.start AND closed.closed_at <= b."end"
              WHERE EXISTS (SELECT 1 FROM point_facts f WHERE f.program_id = $1 AND f.member_id = closed.member_id AND f.kind = 'ACCRUED'
                               AND f.occurred_at >= b.start - make_interval(days => b.window_days) AND f.occurred_at < b.start)
              GROUP BY b.start`,
            [programId, short.map((b) => b.start), short.map((b) => b.end), shortWindows],
          )) as { start: Date; closed: number }[]);
    const closedAt = new Map(closing.map((r) => [new Date(r.start).getTime(), r.closed]));

    return new Map(
      plan.map((p) => {
        const activeAtStart = activeAt.get(`${p.w}:${p.start}`) ?? 0;
        const active = activeAt.get(`${p.w}:${p.end}`) ?? 0;
        const both = p.long
          ? (retainedOver.get(`${p.w}:${p.start}:${p.end}`) ?? 0)
          : retained(activeAtStart, active, activeAt.get(`${p.w + p.length}:${p.end}`) ?? 0, closedAt.get(p.key) ?? 0);
        return [p.key, { active, activeAtStart, retained: both, churned: activeAtStart - both }];
      }),
    );
  }

  /** Unfiltered calendar buckets: from the rollups where they can, the others (longer than their window, not calendar buckets) scanned. */
  private async dailyActivity(programId: string, buckets: readonly Bucket[], windows: readonly number[]): Promise<Map<number, Activity>> {
    const fits = buckets.map((b, i) => {
      const start = dayNumber(b.start);
      const end = dayNumber(b.end);
      return end - start <= windows[i]! || isLongBucket(windows[i]!, start, end);
    });
    const pick = <T>(list: readonly T[], fit: boolean) => list.filter((_, i) => fits[i] === fit);
    const rolled = fits.some(Boolean) ? await this.rolledUpActivity(programId, pick(buckets, true), pick(windows, true)) : new Map<number, Activity>();
    if (rolled === null) return this.scannedActivity(programId, buckets, windows);
    if (fits.every(Boolean)) return rolled;
    const scanned = await this.scannedActivity(programId, pick(buckets, false), pick(windows, false));
    return new Map([...rolled, ...scanned]);
  }

  /** The scan's activity of buckets (what the rollups must equal; for tests and the filtered path). */
  async scannedActivity(programId: string, buckets: readonly Bucket[], windows: readonly number[], filter: KpiFilter = {}): Promise<Map<number, Activity>> {
    const bucketsSql = (params: Params) =>
      `unnest(${params.add(buckets.map((b) => b.start))}::timestamptz[], ${params.add(buckets.map((b) => b.end))}::timestamptz[], ${params.add([...windows])}::int[]) AS b(start, "end", window_days)`;
    return this.activity(programId, bucketsSql, filter);
  }

  /**
   * Per bucket, each member with a purchase in [start − window, end): whether one was before the
   * start (active at the start) and one in the window ending at the end; CLOSED is final.
   */
  private async activity(programId: string, bucketsSql: (params: Params) => string, filter: KpiFilter): Promise<Map<number, Activity>> {
    const params = new Params();
    const program = params.add(programId);
    const from = bucketsSql(params);
    const rows = (await this.withinBudget((tx) =>
      tx.query(
        `WITH closed AS (
           SELECT c.member_id, min(c.occurred_at) AS closed_at FROM member_facts c
            WHERE c.program_id = ${program} AND c.kind = 'STATUS_CHANGED' AND c.to_status = 'CLOSED' GROUP BY c.member_id)
         SELECT a.start,
                count(*) FILTER (WHERE a.at_end)::int AS active,
                count(*) FILTER (WHERE a.at_start)::int AS active_at_start,
                count(*) FILTER (WHERE a.at_start AND a.at_end)::int AS retained
           FROM (SELECT b.start,
                        m.bought_before_start AND (closed.closed_at IS NULL OR closed.closed_at > b.start) AS at_start,
                        m.bought_near_end AND (closed.closed_at IS NULL OR closed.closed_at > b."end") AS at_end
                   FROM ${from}
                   CROSS JOIN LATERAL (
                     SELECT f.member_id,
                            bool_or(f.occurred_at < b.start) AS bought_before_start,
                            bool_or(f.occurred_at >= b."end" - make_interval(days => b.window_days)) AS bought_near_end
                       FROM point_facts f
                      WHERE f.program_id = ${program} AND f.kind = 'ACCRUED'
                        AND f.occurred_at >= b.start - make_interval(days => b.window_days) AND f.occurred_at < b."end"${pointConditions('f', filter, params)}
                      GROUP BY f.member_id) m
                   -- Few members are closed: one hashed set, not a lookup per member and bucket.
                   LEFT JOIN closed ON closed.member_id = m.member_id) a
          GROUP BY a.start`,
        params.values,
      ),
    )) as { start: Date; active: number; active_at_start: number; retained: number }[];

    return new Map(
      rows.map((r) => [new Date(r.start).getTime(), { active: r.active, activeAtStart: r.active_at_start, retained: r.retained, churned: r.active_at_start - r.retained }]),
    );
  }

  /**
   * Runs the activity's queries under the budget: under the gateway's 30 s, the caller gets a clear
   * refusal instead of a timeout (see the README's Performance).
   */
  private async withinBudget<T>(run: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.activityBudgetMs))}`);
        return run(tx);
      });
    } catch (error) {
      const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
      if (code === '57014') {
        throw badUserInput(
          `active, churned, retentionRate and purchaseFrequency of these buckets take longer than ${Math.round(this.activityBudgetMs / 1000)} s: ask fewer or shorter buckets, or leave those fields out`,
        );
      }
      throw error;
    }
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
