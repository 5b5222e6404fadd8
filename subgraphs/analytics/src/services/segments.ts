import { DomainError, forbidden, InputError, isUuid, type Clock, type Viewer } from '@loyalty-graph/shared';
import { analyticsEvents } from '@loyalty-graph/shared/contracts';
import { idempotent, returning, withRetries } from '@loyalty-graph/shared/db';
import { emit, perTransaction } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { canManageSegments, canArchiveSegments } from '../domain/policy';
import { checkRules, checkSegmentText, matches, rfmFromBreakpoints, rulesPredicate, windowsOf, type Breakpoint, type MemberFacts, type SegmentRules } from '../domain/segments';
import { segmentProfile, type SegmentProfileRow } from './segment-profile';
import { breakpointsOf, memberRfm, refreshBreakpoints, type MemberRfm } from './rfm';

export interface SegmentRow {
  id: string;
  programId: string;
  name: string;
  description: string | null;
  visibleToMembers: boolean;
  rules: SegmentRules;
  status: 'ACTIVE' | 'ARCHIVED';
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
  /** Membership is being recomputed in batches (evaluatePending). */
  evaluating: boolean;
}

export const segmentColumns = `g.id, g.program_id AS "programId", g.name, g.description, g.visible_to_members AS "visibleToMembers", g.rules, g.status,
  g.created_at AS "createdAt", g.updated_at AS "updatedAt", g.archived_at AS "archivedAt", g.evaluation_cursor IS NOT NULL AS evaluating`;

/** One entry or exit, as announced. */
interface Change {
  memberId: string;
  member: boolean;
}

/** Advisory lock class for a program's segment membership (the second key is the program's hash). */
const MEMBERSHIP_LOCK = 7_410_400;
/** Events per emit call. */
const EMIT_CHUNK = 2_000;
/** Members per evaluation batch (one short transaction each). */
const EVALUATION_BATCH = 5_000;
/** How long a mutation evaluates inline before leaving the rest to the segment-evaluation job. */
const INLINE_MS = 5_000;
/** Before every member id: an evaluation's cursor at its start. */
const START = '00000000-0000-0000-0000-000000000000';

type RulesInput = Parameters<typeof checkRules>[0];

/**
 * Segments and who is in them. Membership changes three ways, each writing only differences to
 * `segment_members` and announcing one SegmentMembershipChanged per entry or exit:
 * - a member's state changed (the Facts consumer calls `memberChanged` in its transaction);
 * - a segment was created, updated or archived, or the RFM breakpoints changed (every member of
 *   the program, set-based SQL in batches by member id: `evaluatePending`);
 * - time passed (the `segment-windows` job: members whose activity window boundary passed; the
 *   `rfm-breakpoints` job recomputes the breakpoints and marks the RFM segments for evaluation).
 * Evaluations of one program are serialised against the event path by an advisory lock: each
 * whole-program batch takes it exclusively, a member's evaluation shared, so neither works from a
 * member_state the other has changed but not committed.
 */
export class Segments {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: { programId: string; idempotencyKey: string; name: string; description?: string | null; visibleToMembers: boolean; rules: RulesInput }): Promise<{ segmentId: string }> {
    if (!isUuid(input.programId)) throw new InputError('programId is not an id', 'programId');
    if (!canManageSegments(viewer, input.programId)) throw forbidden('Only the program’s admins and analysts manage its segments');
    const text = checkSegmentText(input.name, input.description);
    const rules = checkRules(input.rules);
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: input.programId, key: idempotencyKey, operation: 'createSegment', input: request },
      async (tx) => {
        const now = this.clock.now();
        await lockProgram(tx, input.programId, 'exclusive');
        const [row] = (await tx.query(
          `INSERT INTO segments (program_id, name, description, visible_to_members, rules, windows_evaluated_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6, $6) RETURNING id`,
          [input.programId, text.name, text.description, input.visibleToMembers, JSON.stringify(rules), now],
        )) as { id: string }[];
        await this.evaluateNew(tx, { id: row!.id, programId: input.programId, rules }, now);
        return { segmentId: row!.id };
      },
      this.clock,
    );
    await this.evaluatePending(INLINE_MS, result.segmentId);
    return result;
  }

  async update(viewer: Viewer, input: { segmentId: string; name?: string | null; description?: string | null; visibleToMembers?: boolean | null; rules?: RulesInput | null }): Promise<{ segmentId: string }> {
    if (!isUuid(input.segmentId)) throw new InputError('segmentId is not an id', 'segmentId');
    const rules = input.rules == null ? null : checkRules(input.rules);
    const text = input.name == null ? null : checkSegmentText(input.name, null).name;
    const description = input.description == null ? undefined : checkSegmentText('x', input.description).description;
    const result = await withRetries(() =>
      this.db.transaction(async (tx) => {
        const segment = await this.lockedSegment(tx, viewer, input.segmentId, canManageSegments);
        if (segment.status === 'ARCHIVED') throw new DomainError('SEGMENT_ARCHIVED', 'An archived segment cannot change', 'segmentId');
        const now = this.clock.now();
        const changedRules = rules !== null && JSON.stringify(rules) !== JSON.stringify(segment.rules);
        await tx.query(
          `UPDATE segments SET name = coalesce($2, name), description = CASE WHEN $3::boolean THEN $4 ELSE description END,
             visible_to_members = coalesce($5, visible_to_members), rules = coalesce($6::jsonb, rules),
             windows_evaluated_at = CASE WHEN $6::jsonb IS NULL THEN windows_evaluated_at ELSE $7 END, updated_at = $7
           WHERE id = $1`,
          [segment.id, text, description !== undefined, description ?? null, input.visibleToMembers ?? null, changedRules ? JSON.stringify(rules) : null, now],
        );
        // The same rules again (a retried request) evaluate nothing: membership already follows them.
        if (changedRules) await this.evaluateNew(tx, { id: segment.id, programId: segment.programId, rules: rules! }, now);
        return { segmentId: segment.id };
      }),
    );
    await this.evaluatePending(INLINE_MS, result.segmentId);
    return result;
  }

  async archive(viewer: Viewer, input: { segmentId: string }): Promise<{ segmentId: string }> {
    if (!isUuid(input.segmentId)) throw new InputError('segmentId is not an id', 'segmentId');
    const result = await withRetries(() =>
      this.db.transaction(async (tx) => {
        const segment = await this.lockedSegment(tx, viewer, input.segmentId, canArchiveSegments);
        if (segment.status === 'ARCHIVED') return { segmentId: segment.id };
        const now = this.clock.now();
        // Emptied in batches like an evaluation (everyone leaves, announced): see evaluateBatch.
        await tx.query(`UPDATE segments SET status = 'ARCHIVED', archived_at = $2, updated_at = $2, evaluation_cursor = $3 WHERE id = $1`, [segment.id, now, START]);
        return { segmentId: segment.id };
      }),
    );
    await this.evaluatePending(INLINE_MS, result.segmentId);
    return result;
  }

  /** The segment locked for a write, after the caller's policy (another program's segment is FORBIDDEN, none is NOT_FOUND). */
  private async lockedSegment(tx: EntityManager, viewer: Viewer, segmentId: string, may: (viewer: Viewer, programId: string) => boolean): Promise<SegmentRow> {
    const [found] = (await tx.query(`SELECT program_id AS "programId" FROM segments WHERE id = $1`, [segmentId])) as { programId: string }[];
    if (!found) throw new DomainError('SEGMENT_NOT_FOUND', 'There is no such segment', 'segmentId');
    if (!may(viewer, found.programId)) throw forbidden('You can change only your own program’s segments');
    // Program first, then the segment: the order every whole-program evaluation takes.
    await lockProgram(tx, found.programId, 'exclusive');
    const [segment] = (await tx.query(`SELECT ${segmentColumns} FROM segments g WHERE g.id = $1 FOR UPDATE`, [segmentId])) as SegmentRow[];
    return segment!;
  }

  /**
   * A new or changed segment is evaluated for every member, in batches (evaluatePending): marked
   * here, in the write's transaction. RFM rules first recompute the breakpoints (which marks every
   * RFM segment of the program).
   */
  private async evaluateNew(tx: EntityManager, segment: { id: string; programId: string; rules: SegmentRules }, now: Date): Promise<void> {
    if (segment.rules.rfm) await this.refreshRfm(tx, segment.programId, now);
    else await tx.query(`UPDATE segments SET evaluation_cursor = $2 WHERE id = $1`, [segment.id, START]);
  }

  /** Recomputes a program's RFM breakpoints and marks its RFM segments for evaluation (the caller holds the program's lock); returns how many. */
  async refreshRfm(tx: EntityManager, programId: string, now: Date): Promise<number> {
    await refreshBreakpoints(tx, programId, now);
    const marked = await returning(tx, `UPDATE segments SET evaluation_cursor = $2 WHERE program_id = $1 AND status = 'ACTIVE' AND rules ? 'rfm' RETURNING id`, [programId, START]);
    return marked.length;
  }

  /**
   * Whole-program evaluations (a created or updated segment, RFM segments after a breakpoint
   * refresh, an archived segment being emptied), in batches of EVALUATION_BATCH members by member
   * id, each its own short transaction: a million members never make one statement run past the
   * statement timeout, nor hold the program's lock (and its events) for long. Runs until nothing is
   * pending or `budgetMs` passed (the `segment-evaluation` job continues); `onlySegmentId` limits
   * it to one segment (the mutation that just marked it). Returns the entries and exits announced.
   */
  async evaluatePending(budgetMs: number, onlySegmentId?: string): Promise<number> {
    // Elapsed real time, not the injected clock: this bounds how long a request or job run works.
    const until = Date.now() + budgetMs;
    let changes = 0;
    for (;;) {
      const [next] = (await this.db.query(
        `SELECT id, program_id AS "programId" FROM segments WHERE evaluation_cursor IS NOT NULL AND ($1::uuid IS NULL OR id = $1) ORDER BY updated_at, id LIMIT 1`,
        [onlySegmentId ?? null],
      )) as { id: string; programId: string }[];
      if (!next) return changes;
      changes += await withRetries(() => this.db.transaction((tx) => this.evaluateBatch(tx, next.id, next.programId)));
      if (Date.now() >= until) return changes;
    }
  }

  /** One batch of a pending evaluation: the next members by id after the cursor; the cursor is cleared after the last. */
  private async evaluateBatch(tx: EntityManager, segmentId: string, programId: string): Promise<number> {
    await lockProgram(tx, programId, 'exclusive');
    const [segment] = (await tx.query(`SELECT id, rules, status, evaluation_cursor AS cursor FROM segments WHERE id = $1 AND evaluation_cursor IS NOT NULL FOR UPDATE`, [segmentId])) as {
      id: string;
      rules: SegmentRules;
      status: 'ACTIVE' | 'ARCHIVED';
      cursor: string;
    }[];
    if (!segment) return 0;
    const now = this.clock.now();
    let changes: number;
    let last: string | null;
    if (segment.status === 'ARCHIVED') {
      const left = await returning<Change>(
        tx,
        `DELETE FROM segment_members WHERE segment_id = $1 AND member_id IN (SELECT member_id FROM segment_members WHERE segment_id = $1 ORDER BY member_id LIMIT $2)
         RETURNING member_id AS "memberId", false AS member`,
        [segment.id, EVALUATION_BATCH],
      );
      await announce(tx, programId, segment.id, left, now);
      changes = left.length;
      last = left.length < EVALUATION_BATCH ? null : segment.cursor;
    } else {
      const ids = ((await tx.query(`SELECT member_id FROM member_state WHERE program_id = $1 AND member_id > $2 ORDER BY member_id LIMIT $3`, [programId, segment.cursor, EVALUATION_BATCH])) as { member_id: string }[]).map(
        (r) => r.member_id,
      );
      changes = ids.length ? await apply(tx, { id: segment.id, programId, rules: segment.rules }, now, ids) : 0;
      last = ids.length < EVALUATION_BATCH ? null : ids.at(-1)!;
    }
    await tx.query(`UPDATE segments SET evaluation_cursor = $2 WHERE id = $1`, [segment.id, last]);
    return changes;
  }

  /**
   * The event path: a member's state just changed (same transaction as the change). Their active
   * segments of the program are evaluated with the domain's `matches`, and only differences are
   * written and announced; a redelivered event never gets here (its fact row already existed).
   */
  async memberChanged(tx: EntityManager, programId: string, memberId: string): Promise<void> {
    // Once per consumer transaction: the program's lock is held shared until the commit, so the
    // segments' definitions and the RFM breakpoints (changed only under it exclusively) stay as read.
    const { segments, breakpoints } = await perTransaction(tx, `analytics.segments:${programId}`, async () => {
      await lockProgram(tx, programId, 'shared');
      const rows = (await tx.query(`SELECT id, rules FROM segments WHERE program_id = $1 AND status = 'ACTIVE' ORDER BY id`, [programId])) as { id: string; rules: SegmentRules }[];
      return { segments: rows, breakpoints: rows.some((s) => s.rules.rfm) ? await breakpointsOf(tx, programId) : [] };
    });
    if (segments.length === 0) return;
    const [state] = (await tx.query(`SELECT ${stateColumns} FROM member_state s WHERE s.program_id = $1 AND s.member_id = $2`, [programId, memberId])) as StateRow[];
    if (!state) return;
    const now = this.clock.now();
    const facts = toFacts(state);
    const rfm = rfmFromBreakpoints(breakpoints, facts, now);
    const current = new Set(
      ((await tx.query(`SELECT segment_id FROM segment_members WHERE program_id = $1 AND member_id = $2`, [programId, memberId])) as { segment_id: string }[]).map((r) => r.segment_id),
    );
    for (const segment of segments) {
      const wanted = matches(segment.rules, facts, now, rfm);
      if (wanted === current.has(segment.id)) continue;
      // RETURNING: of two transactions racing on one member, only the one that changed the row announces it.
      const changed = wanted
        ? await returning(tx, `INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`, [programId, segment.id, memberId, now])
        : await returning(tx, `DELETE FROM segment_members WHERE segment_id = $1 AND member_id = $2 RETURNING 1`, [segment.id, memberId]);
      if (changed.length) await announce(tx, programId, segment.id, [{ memberId, member: wanted }], now);
    }
  }

  /**
   * The one time-driven path for activity windows (purchasedWithinDays, notPurchasedWithinDays):
   * nothing happens to a member when their last purchase becomes 31 days old, so every minute this
   * re-evaluates, per segment with a window, only the members whose boundary (last purchase + N
   * days) passed since the segment's previous run — found on (program_id, last_purchase_at).
   */
  async runWindows(): Promise<number> {
    const now = this.clock.now();
    const due = (await this.db.query(
      `SELECT id, program_id AS "programId" FROM segments
        WHERE status = 'ACTIVE' AND (rules ? 'purchasedWithinDays' OR rules ? 'notPurchasedWithinDays') AND windows_evaluated_at < $1 ORDER BY id`,
      [now],
    )) as { id: string; programId: string }[];
    let changes = 0;
    for (const { id, programId } of due) {
      changes += await withRetries(() =>
        this.db.transaction(async (tx) => {
          await lockProgram(tx, programId, 'exclusive');
          // Skipped if another replica has it, or it changed meanwhile (archived, already run).
          const [segment] = (await tx.query(
            `SELECT id, rules, windows_evaluated_at AS "evaluatedAt" FROM segments WHERE id = $1 AND status = 'ACTIVE' AND windows_evaluated_at < $2 FOR UPDATE SKIP LOCKED`,
            [id, now],
          )) as { id: string; rules: SegmentRules; evaluatedAt: Date }[];
          if (!segment) return 0;
          const params: unknown[] = [programId];
          const windows = windowsOf(segment.rules).map((days) => {
            const ms = days * 86_400_000;
            params.push(new Date(segment.evaluatedAt.getTime() - ms), new Date(now.getTime() - ms));
            return `(last_purchase_at >= $${params.length - 1} AND last_purchase_at < $${params.length})`;
          });
          const candidates = windows.length
            ? ((await tx.query(`SELECT member_id FROM member_state WHERE program_id = $1 AND (${windows.join(' OR ')})`, params)) as { member_id: string }[]).map((r) => r.member_id)
            : [];
          const n = candidates.length ? await apply(tx, { id, programId, rules: segment.rules }, now, candidates) : 0;
          await tx.query(`UPDATE segments SET windows_evaluated_at = $2 WHERE id = $1`, [id, now]);
          return n;
        }),
      );
    }
    return changes;
  }

  /** Hourly: every program's RFM breakpoints recomputed (days since the last purchase grow without events); its RFM segments are marked for evaluation. */
  async runRfm(): Promise<number> {
    const now = this.clock.now();
    const programs = (await this.db.query(`SELECT DISTINCT program_id FROM member_state WHERE purchases > 0`)) as { program_id: string }[];
    let changes = 0;
    for (const { program_id: programId } of programs) {
      changes += await withRetries(() =>
        this.db.transaction(async (tx) => {
          await lockProgram(tx, programId, 'exclusive');
          return this.refreshRfm(tx, programId, now);
        }),
      );
    }
    return changes;
  }

  /**
   * A member's RFM. A program whose breakpoints were never computed (no RFM segment yet, the hourly
   * job not run since its first purchase) gets them now, so the first answer is not every member at 1.
   */
  async rfmOf(memberId: string): Promise<{ programId: string; rfm: MemberRfm | null } | null> {
    const found = await memberRfm(this.db, memberId, this.clock.now());
    if (!found?.rfm || found.breakpoints > 0) return found && { programId: found.programId, rfm: found.rfm };
    await withRetries(() =>
      this.db.transaction(async (tx) => {
        await lockProgram(tx, found.programId, 'exclusive');
        if ((await breakpointsOf(tx, found.programId)).length === 0) await this.refreshRfm(tx, found.programId, this.clock.now());
      }),
    );
    const again = await memberRfm(this.db, memberId, this.clock.now());
    return again && { programId: again.programId, rfm: again.rfm };
  }

  profile(segmentId: string): Promise<SegmentProfileRow> {
    return segmentProfile(this.db, segmentId, this.clock.now());
  }

  async byProgram(programId: string, includeArchived: boolean): Promise<SegmentRow[]> {
    return (await this.db.query(`SELECT ${segmentColumns} FROM segments g WHERE g.program_id = $1 AND ($2 OR g.status = 'ACTIVE') ORDER BY g.created_at DESC, g.id`, [
      programId,
      includeArchived,
    ])) as SegmentRow[];
  }

  async byId(segmentId: string): Promise<SegmentRow | null> {
    const [row] = (await this.db.query(`SELECT ${segmentColumns} FROM segments g WHERE g.id = $1`, [segmentId])) as SegmentRow[];
    return row ?? null;
  }

  /** The program a member belongs to (as analytics knows it) and the active segments they are in, by name. */
  async ofMember(memberId: string): Promise<{ programId: string | null; segments: SegmentRow[] }> {
    const [state] = (await this.db.query(`SELECT program_id AS "programId" FROM member_state WHERE member_id = $1 LIMIT 1`, [memberId])) as { programId: string }[];
    if (!state) return { programId: null, segments: [] };
    const segments = (await this.db.query(
      `SELECT ${segmentColumns} FROM segment_members m JOIN segments g ON g.id = m.segment_id
        WHERE m.program_id = $1 AND m.member_id = $2 AND g.status = 'ACTIVE' ORDER BY g.name, g.id`,
      [state.programId, memberId],
    )) as SegmentRow[];
    return { programId: state.programId, segments };
  }

  async membersSeeSegments(programId: string): Promise<boolean> {
    const [row] = (await this.db.query(`SELECT members_see_segments AS v FROM analytics_program_settings WHERE program_id = $1`, [programId])) as { v: boolean }[];
    return row?.v ?? false;
  }

  /** Setting the same value twice changes nothing (a natural key: the program). */
  async setMembersSeeSegments(viewer: Viewer, input: { programId: string; membersSeeSegments: boolean }): Promise<{ programId: string; membersSeeSegments: boolean }> {
    if (!isUuid(input.programId)) throw new InputError('programId is not an id', 'programId');
    if (!canArchiveSegments(viewer, input.programId)) throw forbidden('Only the program’s admins decide what members see');
    await this.db.query(
      `INSERT INTO analytics_program_settings (program_id, members_see_segments, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (program_id) DO UPDATE SET members_see_segments = $2, updated_at = $3`,
      [input.programId, input.membersSeeSegments, this.clock.now()],
    );
    return { programId: input.programId, membersSeeSegments: input.membersSeeSegments };
  }
}

async function lockProgram(tx: EntityManager, programId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.query(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}($1, hashtext($2))`, [MEMBERSHIP_LOCK, programId]);
}

/**
 * Set-based evaluation of one segment over the program's members (or only `memberIds`): who
 * matches the rules enters, who is in it and does not leaves, in one statement; returns how many
 * changed, each announced. The caller holds the program's lock exclusively.
 */
async function apply(tx: EntityManager, segment: { id: string; programId: string; rules: SegmentRules }, now: Date, memberIds?: string[]): Promise<number> {
  const base: unknown[] = [segment.programId, segment.id, now, memberIds ?? null];
  const breakpoints = segment.rules.rfm ? await breakpointsOf(tx, segment.programId) : [];
  const predicate = rulesPredicate(segment.rules, base.length + 1, now, breakpoints);
  const changes = (await tx.query(
    `WITH desired AS (
       SELECT s.member_id FROM member_state s
        WHERE s.program_id = $1 AND ($4::uuid[] IS NULL OR s.member_id = ANY($4::uuid[])) AND ${predicate.sql}
     ), entered AS (
       INSERT INTO segment_members (program_id, segment_id, member_id, since)
       SELECT $1, $2, member_id, $3 FROM desired ON CONFLICT DO NOTHING RETURNING member_id
     ), departed AS (
       DELETE FROM segment_members m
        WHERE m.segment_id = $2 AND ($4::uuid[] IS NULL OR m.member_id = ANY($4::uuid[]))
          AND NOT EXISTS (SELECT 1 FROM desired d WHERE d.member_id = m.member_id)
        RETURNING member_id
     )
     SELECT member_id AS "memberId", true AS member FROM entered
     UNION ALL SELECT member_id AS "memberId", false AS member FROM departed`,
    [...base, ...predicate.params],
  )) as Change[];
  await announce(tx, segment.programId, segment.id, changes, now);
  return changes.length;
}

async function announce(tx: EntityManager, programId: string, segmentId: string, changes: Change[], now: Date): Promise<void> {
  const at = now.toISOString();
  for (let i = 0; i < changes.length; i += EMIT_CHUNK) {
    await emit(
      tx,
      analyticsEvents,
      changes.slice(i, i + EMIT_CHUNK).map((c) => ({ type: 'SegmentMembershipChanged' as const, payload: { programId, memberId: c.memberId, segmentId, member: c.member, at } })),
      now,
    );
  }
}

const stateColumns = `s.tier_id AS "tierId", s.status, s.last_purchase_at AS "lastPurchaseAt", s.purchases, s.spend::text AS spend, s.points_balance::text AS "pointsBalance",
  s.consents, s.group_ids AS "groupIds", s.enrolled_at AS "enrolledAt", s.enrolled_through_partner_id AS "enrolledThroughPartnerId",
  to_char(s.birth_date, 'YYYY-MM-DD') AS "birthDate", s.preferred_language AS "preferredLanguage"`;
type StateRow = MemberFacts;

function toFacts(row: StateRow): MemberFacts {
  return { ...row, consents: row.consents ?? [], groupIds: row.groupIds ?? [] };
}

export type { Breakpoint };
