import { atCommit, forgetPerTransaction, perTransaction } from '@loyalty-graph/shared/events';
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
/** The windows a program's settings need (every version's W and W + each bucket length ≤ W), and those built. */
async function windowsOf(tx: EntityManager, programId: string): Promise<{ needed: number[]; built: Set<number> }> {
  const [row] = (await tx.query(
    `SELECT coalesce((SELECT array_agg(DISTINCT active_window_days) FROM analytics_settings WHERE program_id = $1), '{}') AS versions,
            coalesce((SELECT array_agg(window_days) FROM activity_windows WHERE program_id = $1), '{}') AS built`,
    [programId],
  )) as { versions: number[]; built: number[] }[];
  const needed = new Set<number>();
  for (const w of [DEFAULT_ACTIVE_WINDOW_DAYS, ...row!.versions]) for (const x of windowsFor(w)) needed.add(x);
  return { needed: [...needed].sort((a, b) => a - b), built: new Set(row!.built) };
}

/**
 * Moves the rollups with a new fact of a member (a purchase or a closing), in the consumer's
 * transaction, after the fact row was inserted (never on a redelivery: the caller returns first).
 * Windows the program's settings need but that are not built yet (a first event, a new settings
 * version) are built from the facts here, including this one; the others get the member's change.
 * Four statements per event in the usual case (windows; locks; the member's history; upsert).
 */
export async function rollUpActivity(tx: EntityManager, programId: string, memberId: string, eventId: string): Promise<void> {
  // Once per consumer transaction: a settings version added meanwhile is built by the next one.
  const windowsKey = `analytics.activity.windows:${programId}`;
  const { needed, built } = await perTransaction(tx, windowsKey, () => windowsOf(tx, programId));
  let builtBefore: number[] | null = null;
  if (needed.some((w) => !built.has(w))) {
    await tx.query(`SELECT pg_advisory_xact_lock(${programLock})`, [programId]);
    const now = (await windowsOf(tx, programId)).built;
    const missing = needed.filter((w) => !now.has(w));
    if (missing.length > 0) {
      // Under the exclusive lock every other update of the program has committed: the build sees
      // all the facts, this event's included, so it is not applied again below.
      await tx.query(BUILD_SQL('program_id = $1'), [programId, missing]);
      await tx.query(
        `INSERT INTO activity_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now() ON CONFLICT DO NOTHING`,
        [programId, missing],
      );
    }
    builtBefore = [...now];
    forgetPerTransaction(tx, windowsKey);
  }
  // The program's lock shared (no build in progress: the windows read after it are complete), the
  // member's exclusively; then the member's purchase days and first closing, with and without this event.
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${programLock}), pg_advisory_xact_lock(${memberLock})`, [programId, memberId]);
  const [state] = (await tx.query(
    `SELECT coalesce((SELECT array_agg(window_days) FROM activity_windows WHERE program_id = $1), '{}') AS built,
            coalesce((SELECT json_agg(json_build_object('day', d.day, 'onlyThis', d.only_this))
                        FROM (SELECT (day - date '1970-01-01') AS day, bool_and(event_id = $3) AS only_this
                                FROM point_facts WHERE program_id = $1 AND member_id = $2 AND kind = 'ACCRUED' GROUP BY day) d), '[]') AS days,
            (SELECT min(occurred_at) FILTER (WHERE event_id <> $3) FROM member_facts
              WHERE program_id = $1 AND member_id = $2 AND kind = 'STATUS_CHANGED' AND to_status = 'CLOSED') AS closed_before,
            (SELECT min(occurred_at) FROM member_facts
              WHERE program_id = $1 AND member_id = $2 AND kind = 'STATUS_CHANGED' AND to_status = 'CLOSED') AS closed_after`,
    [programId, memberId, eventId],
  )) as { built: number[]; days: { day: number; onlyThis: boolean }[]; closed_before: Date | null; closed_after: Date | null }[];
  // Windows built just now (in this transaction) already hold this event.
  const incremental = builtBefore ?? state!.built;
  if (incremental.length === 0) return;
  const after = state!.days.map((d) => d.day);
  const before = state!.days.filter((d) => !d.onlyThis).map((d) => d.day);
  const clipBefore = clipDay(state!.closed_before ? new Date(state!.closed_before) : null);
  const clipAfter = clipDay(state!.closed_after ? new Date(state!.closed_after) : null);

  for (const w of incremental) {
    for (const [day, delta] of coverageDeltas(coverage(before, w, clipBefore), coverage(after, w, clipAfter))) {
      // Members purchasing today all move the same few days (tomorrow, tomorrow + W): summed over the
      // transaction and written just before its commit, like the daily totals (kpi-rollups.ts).
      await atCommit(tx, 'analytics.activity_days', { programId, w, day, delta }, writeActivityDays);
    }
  }
}

interface ActivityDelta {
  programId: string;
  w: number;
  day: number;
  delta: number;
}

/**
 * One upsert for a transaction's coverage changes, summed per (program, window, day). One order
 * for every writer (the members' and the ledger's consumers both move these rows), so two upserts
 * over the same days wait for each other instead of deadlocking.
 */
async function writeActivityDays(tx: EntityManager, deltas: ActivityDelta[]): Promise<void> {
  const sums = new Map<string, ActivityDelta>();
  for (const d of deltas) {
    const key = `${d.programId}|${d.w}|${d.day}`;
    const sum = sums.get(key);
    if (sum) sum.delta += d.delta;
    else sums.set(key, { ...d });
  }
  const rows = [...sums.values()].filter((r) => r.delta !== 0);
  if (rows.length === 0) return;
  rows.sort((a, b) => (a.programId < b.programId ? -1 : a.programId > b.programId ? 1 : a.w - b.w || a.day - b.day));
  await tx.query(
    `INSERT INTO activity_days (program_id, window_days, day, delta)
     SELECT r.program_id, r.w, date '1970-01-01' + r.day, r.delta FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) WITH ORDINALITY AS r(program_id, w, day, delta, n)
      ORDER BY r.n
     ON CONFLICT (program_id, window_days, day) DO UPDATE SET delta = activity_days.delta + excluded.delta`,
    [rows.map((r) => r.programId), rows.map((r) => r.w), rows.map((r) => r.day), rows.map((r) => r.delta)],
  );
}
