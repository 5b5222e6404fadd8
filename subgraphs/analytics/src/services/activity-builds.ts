import { longBuckets } from '../domain/activity-long-buckets';

/**
 * Builds a program's activity rollups from its facts, set-based: the day rows of windows
 * (activity_days) and the retained counts of the calendar buckets longer than a window
 * (activity_retained). Run by the consumer under the program's lock held exclusively
 * (activity-rollups.ts), by the migrations for programs that already have facts, and by the bench
 * generator; each caller lists what it built (activity_windows, activity_retained_windows).
 */

/** Runs one statement and returns its rows: an EntityManager's or a QueryRunner's query, or a pg pool wrapped. */
export type RunSql = (sql: string, params: unknown[]) => Promise<unknown[]>;

/**
 * Each member's covered spans per window, from the facts: purchase days grouped into islands (a
 * day within W of the previous one extends the span), each island covering [first + 1, last + W +
 * 1), cut at the member's first CLOSED. $1 program, $2 int[] windows (repeats are fine).
 */
const spansSql = (programCondition: string) => `
  windows AS (SELECT DISTINCT unnest($2::int[]) AS window_days),
  closed AS (
    SELECT program_id, member_id, ((min(occurred_at) - interval '1 microsecond') AT TIME ZONE 'UTC')::date + 1 AS clip
      FROM member_facts WHERE kind = 'STATUS_CHANGED' AND to_status = 'CLOSED' AND ${programCondition} GROUP BY program_id, member_id),
  days AS (SELECT DISTINCT program_id, member_id, day FROM point_facts WHERE kind = 'ACCRUED' AND ${programCondition}),
  marked AS (
    SELECT d.program_id, d.member_id, d.day, w.window_days,
           CASE WHEN lag(d.day) OVER (PARTITION BY d.program_id, d.member_id, w.window_days ORDER BY d.day) >= d.day - w.window_days THEN 0 ELSE 1 END AS starts
      FROM days d CROSS JOIN windows w),
  islands AS (
    SELECT *, sum(starts) OVER (PARTITION BY program_id, member_id, window_days ORDER BY day) AS island FROM marked),
  spans AS (
    SELECT i.program_id, i.member_id, i.window_days, min(i.day) + 1 AS from_day, least(max(i.day) + i.window_days + 1, min(c.clip)) AS to_day
      FROM islands i LEFT JOIN closed c ON c.program_id = i.program_id AND c.member_id = i.member_id
     GROUP BY i.program_id, i.member_id, i.window_days, i.island)`;

/**
 * SQL building the given windows' day rows: the spans' edges summed per day. $1 program, $2 int[]
 * windows. Also used by the bench generator.
 */
export const BUILD_SQL = (programCondition: string) => `
  WITH ${spansSql(programCondition)},
  edges AS (
    SELECT program_id, window_days, from_day AS day, 1 AS delta FROM spans WHERE from_day < to_day
    UNION ALL
    SELECT program_id, window_days, to_day, -1 FROM spans WHERE from_day < to_day)
  INSERT INTO activity_days (program_id, window_days, day, delta)
  SELECT program_id, window_days, day, sum(delta) FROM edges GROUP BY program_id, window_days, day HAVING sum(delta) <> 0
  ON CONFLICT (program_id, window_days, day) DO UPDATE SET delta = activity_days.delta + excluded.delta`;

/**
 * SQL building the retained counts of the given long buckets: the members with a span holding the
 * bucket's start and a span holding its end (a member's spans are disjoint: one of each at most).
 * $1 program, $2 int[] windows, $3 int[] starts, $4 int[] ends (day numbers), one bucket per index.
 */
const RETAINED_SQL = `
  WITH ${spansSql('program_id = $1')},
  buckets AS (
    SELECT b.window_days, date '1970-01-01' + b.from_day AS from_day, date '1970-01-01' + b.to_day AS to_day
      FROM unnest($2::int[], $3::int[], $4::int[]) AS b(window_days, from_day, to_day)),
  at_start AS (
    SELECT s.member_id, b.window_days, b.from_day, b.to_day FROM buckets b
      JOIN spans s ON s.window_days = b.window_days AND s.from_day <= b.from_day AND b.from_day < s.to_day),
  at_end AS (
    SELECT s.member_id, b.window_days, b.from_day, b.to_day FROM buckets b
      JOIN spans s ON s.window_days = b.window_days AND s.from_day <= b.to_day AND b.to_day < s.to_day)
  INSERT INTO activity_retained (program_id, window_days, from_day, to_day, retained)
  SELECT $1, window_days, from_day, to_day, count(*) FROM at_start JOIN at_end USING (member_id, window_days, from_day, to_day)
   GROUP BY window_days, from_day, to_day
  ON CONFLICT (program_id, window_days, from_day, to_day) DO UPDATE SET retained = activity_retained.retained + excluded.retained`;

/**
 * Builds the retained counts of the long buckets of `windows` for one program. The buckets are
 * bounded by the program's purchases: a member is covered at S only after a purchase before S, and
 * at E only up to a purchase's day + W, so a bucket with a start after the first purchase day and
 * an end up to the last purchase day + W can be non-zero; every other one is 0 and has no row.
 * Later purchases move the buckets they touch (activity-rollups.ts), whatever their date.
 */
export async function buildLongBuckets(run: RunSql, programId: string, windows: readonly number[]): Promise<void> {
  if (windows.length === 0) return;
  const [range] = (await run(
    `SELECT (min(day) - date '1970-01-01') AS first, (max(day) - date '1970-01-01') AS last FROM point_facts WHERE program_id = $1 AND kind = 'ACCRUED'`,
    [programId],
  )) as { first: number | null; last: number | null }[];
  if (range?.first == null || range.last == null) return;
  const plan = windows.flatMap((w) => longBuckets(w, range.first! + 1, range.last! + w + 1).map(([s, e]) => ({ w, s, e })));
  if (plan.length === 0) return;
  await run(RETAINED_SQL, [programId, plan.map((p) => p.w), plan.map((p) => p.s), plan.map((p) => p.e)]);
}
