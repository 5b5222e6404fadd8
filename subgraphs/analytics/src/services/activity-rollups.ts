import { atCommit, forgetPerTransaction, perTransaction } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { DEFAULT_ACTIVE_WINDOW_DAYS } from '../domain/kpi-definitions';
import { clipDay, coverage, coverageDeltas, windowsFor } from '../domain/activity-coverage';
import { retainedDeltas } from '../domain/activity-long-buckets';
import { BUILD_SQL, buildLongBuckets } from './activity-builds';

/**
 * Keeps activity_days: per program and window, +1/−1 on the days members' covered midnights start
 * and stop (domain/activity-coverage.ts); and activity_retained: per program and settings window,
 * the members covered at both ends of each calendar bucket longer than the window
 * (domain/activity-long-buckets.ts). Locks: a build of a program's windows takes the program's
 * lock exclusively; a member's update takes it shared and the member's lock exclusively, so two
 * events of one member are applied one after the other (each sees the other's fact committed) and
 * none is applied to a window while it is being built.
 */

const programLock = `hashtext('analytics.activity'), hashtext($1::text)`;
const memberLock = `hashtext('analytics.activity.member'), hashtext($1::text || $2::text)`;

interface Windows {
  /** Day rows: every version's W and W + each bucket length ≤ W. */
  needed: number[];
  built: Set<number>;
  /** Long buckets' retained counts: every version's W (a window kept only as some W + L has none). */
  neededLong: number[];
  builtLong: Set<number>;
}

/** The windows a program's settings need, and those built. */
async function windowsOf(tx: EntityManager, programId: string): Promise<Windows> {
  const [row] = (await tx.query(
    `SELECT coalesce((SELECT array_agg(DISTINCT active_window_days) FROM analytics_settings WHERE program_id = $1), '{}') AS versions,
            coalesce((SELECT array_agg(window_days) FROM activity_windows WHERE program_id = $1), '{}') AS built,
            coalesce((SELECT array_agg(window_days) FROM activity_retained_windows WHERE program_id = $1), '{}') AS built_long`,
    [programId],
  )) as { versions: number[]; built: number[]; built_long: number[] }[];
  const versions = [...new Set([DEFAULT_ACTIVE_WINDOW_DAYS, ...row!.versions])].sort((a, b) => a - b);
  const needed = new Set<number>();
  for (const w of versions) for (const x of windowsFor(w)) needed.add(x);
  return { needed: [...needed].sort((a, b) => a - b), built: new Set(row!.built), neededLong: versions, builtLong: new Set(row!.built_long) };
}

/**
 * Moves the rollups with a new fact of a member (a purchase or a closing), in the consumer's
 * transaction, after the fact row was inserted (never on a redelivery: the caller returns first).
 * Windows the program's settings need but that are not built yet (a first event, a new settings
 * version) are built from the facts here, including this one; the others get the member's change.
 * Three statements per event in the usual case (windows; locks; the member's history), and the
 * upserts of day rows and long buckets once per transaction.
 */
export async function rollUpActivity(tx: EntityManager, programId: string, memberId: string, eventId: string): Promise<void> {
  // Once per consumer transaction: a settings version added meanwhile is built by the next one.
  const windowsKey = `analytics.activity.windows:${programId}`;
  const { needed, built, neededLong, builtLong } = await perTransaction(tx, windowsKey, () => windowsOf(tx, programId));
  let builtBefore: { days: number[]; long: number[] } | null = null;
  if (needed.some((w) => !built.has(w)) || neededLong.some((w) => !builtLong.has(w))) {
    await tx.query(`SELECT pg_advisory_xact_lock(${programLock})`, [programId]);
    const now = await windowsOf(tx, programId);
    const missing = needed.filter((w) => !now.built.has(w));
    const missingLong = neededLong.filter((w) => !now.builtLong.has(w));
    // Under the exclusive lock every other update of the program has committed: the build sees
    // all the facts, this event's included, so it is not applied again below.
    if (missing.length > 0) {
      await tx.query(BUILD_SQL('program_id = $1'), [programId, missing]);
      await tx.query(
        `INSERT INTO activity_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now() ON CONFLICT DO NOTHING`,
        [programId, missing],
      );
    }
    if (missingLong.length > 0) {
      await buildLongBuckets((sql, params) => tx.query(sql, params), programId, missingLong);
      await tx.query(
        `INSERT INTO activity_retained_windows (program_id, window_days, built_at) SELECT $1, unnest($2::int[]), now() ON CONFLICT DO NOTHING`,
        [programId, missingLong],
      );
    }
    builtBefore = { days: [...now.built], long: [...now.builtLong] };
    forgetPerTransaction(tx, windowsKey);
  }
  // The program's lock shared (no build in progress: the windows read after it are complete), the
  // member's exclusively; then the member's purchase days and first closing, with and without this event.
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${programLock}), pg_advisory_xact_lock(${memberLock})`, [programId, memberId]);
  const [state] = (await tx.query(
    `SELECT coalesce((SELECT array_agg(window_days) FROM activity_windows WHERE program_id = $1), '{}') AS built,
            coalesce((SELECT array_agg(window_days) FROM activity_retained_windows WHERE program_id = $1), '{}') AS built_long,
            coalesce((SELECT json_agg(json_build_object('day', d.day, 'onlyThis', d.only_this))
                        FROM (SELECT (day - date '1970-01-01') AS day, bool_and(event_id = $3) AS only_this
                                FROM point_facts WHERE program_id = $1 AND member_id = $2 AND kind = 'ACCRUED' GROUP BY day) d), '[]') AS days,
            (SELECT min(occurred_at) FILTER (WHERE event_id <> $3) FROM member_facts
              WHERE program_id = $1 AND member_id = $2 AND kind = 'STATUS_CHANGED' AND to_status = 'CLOSED') AS closed_before,
            (SELECT min(occurred_at) FROM member_facts
              WHERE program_id = $1 AND member_id = $2 AND kind = 'STATUS_CHANGED' AND to_status = 'CLOSED') AS closed_after`,
    [programId, memberId, eventId],
  )) as { built: number[]; built_long: number[]; days: { day: number; onlyThis: boolean }[]; closed_before: Date | null; closed_after: Date | null }[];
  // Windows built just now (in this transaction) already hold this event.
  const incremental = builtBefore?.days ?? state!.built;
  const incrementalLong = builtBefore?.long ?? state!.built_long;
  if (incremental.length === 0 && incrementalLong.length === 0) return;
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
  for (const w of incrementalLong) {
    const was = coverage(before, w, clipBefore);
    const is = coverage(after, w, clipAfter);
    // Only the long buckets with an end where the coverage moved: one or two per purchase.
    for (const { start, end, delta } of retainedDeltas(w, was, is, coverageDeltas(was, is).keys()).values()) {
      await atCommit(tx, 'analytics.activity_retained', { programId, w, start, end, delta }, writeActivityRetained);
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

interface RetainedDelta {
  programId: string;
  w: number;
  start: number;
  end: number;
  delta: number;
}

/**
 * One upsert for a transaction's long-bucket changes, summed per (program, window, bucket), in one
 * order for every writer like the day rows (and after them: batches are flushed in key order).
 */
async function writeActivityRetained(tx: EntityManager, deltas: RetainedDelta[]): Promise<void> {
  const sums = new Map<string, RetainedDelta>();
  for (const d of deltas) {
    const key = `${d.programId}|${d.w}|${d.start}|${d.end}`;
    const sum = sums.get(key);
    if (sum) sum.delta += d.delta;
    else sums.set(key, { ...d });
  }
  const rows = [...sums.values()].filter((r) => r.delta !== 0);
  if (rows.length === 0) return;
  rows.sort((a, b) => (a.programId < b.programId ? -1 : a.programId > b.programId ? 1 : a.w - b.w || a.start - b.start || a.end - b.end));
  await tx.query(
    `INSERT INTO activity_retained (program_id, window_days, from_day, to_day, retained)
     SELECT r.program_id, r.w, date '1970-01-01' + r.s, date '1970-01-01' + r.e, r.delta
       FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::int[]) WITH ORDINALITY AS r(program_id, w, s, e, delta, n)
      ORDER BY r.n
     ON CONFLICT (program_id, window_days, from_day, to_day) DO UPDATE SET retained = activity_retained.retained + excluded.retained`,
    [rows.map((r) => r.programId), rows.map((r) => r.w), rows.map((r) => r.start), rows.map((r) => r.end), rows.map((r) => r.delta)],
  );
}
