import type { EntityManager } from 'typeorm';
import { DEFAULT_ACTIVE_WINDOW_DAYS } from '../domain/kpi-definitions';
import { clipDay, coverage, coverageDeltas, windowsFor } from '../domain/activity-coverage';

/**
 * Keeps activity_days: per program and window, +1/−1 on the days members' covered midnights start
 * and stop (domain/activity-coverage.ts). Locks: a build of a program's window takes the program's
 * lock exclusively; a member's update takes it shared and the member's lock exclusively, so two
 * events of one member are applied one after the other (each sees the other's fact committed) and
 * none is applied to a window while it is being built.
 */

const programLock = `hashtext('analytics.activity'), hashtext($1::text)`;
const memberLock = `hashtext('analytics.activity.member'), hashtext($1::text || $2::text)`;

/**
 * SQL building the given windows of one program from the facts, set-based: each member's purchase
 * days are grouped into islands (a day within W of the previous one extends the span), each island
 * covers [first + 1, last + W + 1), cut at the member's first CLOSED, and the spans' edges are
 * summed per day. $1 program, $2 int[] windows. Also used by the bench generator (with every program).
 */
export const BUILD_SQL = (programCondition: string) => `
  WITH windows AS (SELECT unnest($2::int[]) AS window_days),
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
    SELECT i.program_id, i.window_days, min(i.day) + 1 AS from_day, least(max(i.day) + i.window_days + 1, min(c.clip)) AS to_day
      FROM islands i LEFT JOIN closed c ON c.program_id = i.program_id AND c.member_id = i.member_id
     GROUP BY i.program_id, i.member_id, i.window_days, i.island),
  edges AS (
    SELECT program_id, window_days, from_day AS day, 1 AS delta FROM spans WHERE from_day < to_day
    UNION ALL
    SELECT program_id, window_days, to_day, -1 FROM spans WHERE from_day < to_day)
  INSERT INTO activity_days (program_id, window_days, day, delta)
  SELECT program_id, window_days, day, sum(delta) FROM edges GROUP BY program_id, window_days, day HAVING sum(delta) <> 0
  ON CONFLICT (program_id, window_days, day) DO UPDATE SET delta = activity_days.delta + excluded.delta`;

/** The windows a program's settings need: every version's W and W + each bucket length ≤ W. */
async function neededWindows(tx: EntityManager, programId: string): Promise<number[]> {
  const rows = (await tx.query(`SELECT DISTINCT active_window_days AS w FROM analytics_settings WHERE program_id = $1`, [programId])) as { w: number }[];
  const windows = new Set<number>();
  for (const w of [DEFAULT_ACTIVE_WINDOW_DAYS, ...rows.map((r) => r.w)]) for (const x of windowsFor(w)) windows.add(x);
  return [...windows].sort((a, b) => a - b);
}

const builtWindows = async (tx: EntityManager, programId: string): Promise<Set<number>> =>
  new Set(((await tx.query(`SELECT window_days AS w FROM activity_windows WHERE program_id = $1`, [programId])) as { w: number }[]).map((r) => r.w));

/**
 * Moves the rollups with a new fact of a member (a purchase or a closing), in the consumer's
 * transaction, after the fact row was inserted (never on a redelivery: the caller returns first).
 * Windows the program's settings need but that are not built yet (a first event, a new settings
 * version) are built from the facts here, including this one; the others get the member's change.
 */
export async function rollUpActivity(tx: EntityManager, programId: string, memberId: string, eventId: string): Promise<void> {
  const needed = await neededWindows(tx, programId);
  let built = await builtWindows(tx, programId);
  let incremental: number[];
  if (needed.some((w) => !built.has(w))) {
    await tx.query(`SELECT pg_advisory_xact_lock(${programLock})`, [programId]);
    built = await builtWindows(tx, programId);
    const missing = needed.filter((w) => !built.has(w));
    if (missing.length > 0) {
      // Under the exclusive lock every other update of the program has committed: the build sees
      // all the facts, this event's included, so it is not applied again below.
      await tx.query(BUILD_SQL('program_id = $1'), [programId, missing]);
      await tx.query(
        `INSERT INTO activity_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now() ON CONFLICT DO NOTHING`,
        [programId, missing],
      );
    }
    incremental = [...built];
  } else {
    await tx.query(`SELECT pg_advisory_xact_lock_shared(${programLock})`, [programId]);
    incremental = [...(await builtWindows(tx, programId))];
  }
  if (incremental.length === 0) return;
  await tx.query(`SELECT pg_advisory_xact_lock(${memberLock})`, [programId, memberId]);

  // The member's purchase days and first closing, with and without this event.
  const days = (await tx.query(
    `SELECT (day - date '1970-01-01') AS day, bool_and(event_id = $3) AS only_this
       FROM point_facts WHERE program_id = $1 AND member_id = $2 AND kind = 'ACCRUED' GROUP BY day`,
    [programId, memberId, eventId],
  )) as { day: number; only_this: boolean }[];
  const [closed] = (await tx.query(
    `SELECT min(occurred_at) FILTER (WHERE event_id <> $3) AS before, min(occurred_at) AS after
       FROM member_facts WHERE program_id = $1 AND member_id = $2 AND kind = 'STATUS_CHANGED' AND to_status = 'CLOSED'`,
    [programId, memberId, eventId],
  )) as { before: Date | null; after: Date | null }[];
  const after = days.map((d) => d.day);
  const before = days.filter((d) => !d.only_this).map((d) => d.day);
  const clipBefore = clipDay(closed?.before ? new Date(closed.before) : null);
  const clipAfter = clipDay(closed?.after ? new Date(closed.after) : null);

  const rows: { w: number; day: number; delta: number }[] = [];
  for (const w of incremental) {
    for (const [day, delta] of coverageDeltas(coverage(before, w, clipBefore), coverage(after, w, clipAfter))) rows.push({ w, day, delta });
  }
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO activity_days (program_id, window_days, day, delta)
     SELECT $1, r.w, date '1970-01-01' + r.day, r.delta FROM unnest($2::int[], $3::int[], $4::int[]) AS r(w, day, delta)
     ON CONFLICT (program_id, window_days, day) DO UPDATE SET delta = activity_days.delta + excluded.delta`,
    [programId, rows.map((r) => r.w), rows.map((r) => r.day), rows.map((r) => r.delta)],
  );
}
