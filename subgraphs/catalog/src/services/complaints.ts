import { ANONYMOUS, conflict, DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { catalogEvents } from '@loyalty-graph/shared/contracts';
import { requestHash, validateKey, withRetries } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { complaintColumns, type ComplaintRow } from '../entities';
import { COMPLAINT_REASONS, firstDueAt, isFinal, moveComplaint, type ComplaintReason, type ComplaintRemedy, type ComplaintStatus } from '../domain/complaints';
import { checkInt, checkText, checkUuid, LIMITS } from '../domain/limits';
import { canHandleComplaints, canManageCatalog } from '../domain/policy';
import type { ShippingAddress } from '../domain/shipping';
import type { OrderChangeService } from './order-changes';
import type { OrderService } from './orders';

export const DEFAULT_COMPLAINT_DEADLINE_DAYS = 14;

export interface OpenComplaintInput {
  idempotencyKey: string;
  orderId: string;
  lineId?: string | null;
  reason: ComplaintReason;
  description: string;
}

export interface ResolveComplaintInput {
  idempotencyKey: string;
  complaintId: string;
  resolution: ComplaintRemedy;
  points?: number | null;
  note: string;
}

/** A complaint as the service works it: the row and its resolving claim. */
interface LockedComplaint extends ComplaintRow {
  resolvingKey: string | null;
  resolvingHash: string | null;
  resolvingRemedy: ComplaintRemedy | null;
  resolvingPoints: number | null;
  resolvingNote: string | null;
  resolvingBy: string | null;
}

const LOCKED = `${complaintColumns}, c.resolving_key AS "resolvingKey", c.resolving_hash AS "resolvingHash", c.resolving_remedy AS "resolvingRemedy",
  c.resolving_points AS "resolvingPoints", c.resolving_note AS "resolvingNote", c.resolving_by AS "resolvingBy"`;

/** The keys of a resolution's effects: one replacement order and one refund per complaint, ever. */
const keys = {
  replacement: (complaintId: string) => `complaint:${complaintId}:replacement`,
  refund: (complaintId: string) => `complaint:${complaintId}:refund`,
};

/**
 * Complaints about reward orders: opened by the member (or an agent for them), worked by the
 * program's agents through a small state machine (domain/complaints.ts) with a deadline that stops
 * while they wait for the member, and closed with a replacement order, a points refund or a
 * rejection the member reads.
 *
 * A resolution is claimed under the complaint's row lock, then its effect runs (OrderService.place
 * or OrderChangeService.refundPoints, each with a key derived from the complaint, so running it
 * twice has one effect), then the complaint is closed. A second agent finds the claim and is told
 * COMPLAINT_CLOSED; the same request again finishes or replays it; recovery finishes a claim whose
 * request died.
 */
export class ComplaintService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly orders: OrderService,
    private readonly orderChanges: OrderChangeService,
    private readonly options: { leaseSeconds: number } = { leaseSeconds: 30 },
  ) {}

  /** The program's complaint deadline in days (DEFAULT_COMPLAINT_DEADLINE_DAYS until configured). */
  async deadlineDays(programId: string, tx: EntityManager = this.db.manager): Promise<number> {
    const [row] = (await tx.query(`SELECT complaint_deadline_days AS days FROM catalog_settings WHERE program_id = $1`, [programId])) as { days: number }[];
    return row?.days ?? DEFAULT_COMPLAINT_DEADLINE_DAYS;
  }

  /** Sets the deadline for complaints opened from now on (open ones keep theirs). */
  async configure(viewer: Viewer, input: { programId: string; deadlineDays: number }): Promise<{ programId: string; deadlineDays: number }> {
    const programId = checkUuid(input.programId, 'programId');
    const days = checkInt(input.deadlineDays, 'deadlineDays', 1, LIMITS.complaintDeadlineDays);
    if (!canManageCatalog(viewer, programId)) throw forbidden('Only the program’s administrators configure complaints');
    await this.db.query(
      `INSERT INTO catalog_settings (program_id, complaint_deadline_days, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (program_id) DO UPDATE SET complaint_deadline_days = EXCLUDED.complaint_deadline_days, updated_at = EXCLUDED.updated_at`,
      [programId, days, this.clock.now()],
    );
    return { programId, deadlineDays: days };
  }

  /**
   * Opens a complaint about a confirmed order (or one of its lines). The member about their own
   * orders; the program's agents and admins about any. The same key returns the same complaint.
   */
  async open(viewer: Viewer, input: OpenComplaintInput): Promise<{ complaintId: string }> {
    validateKey(input.idempotencyKey);
    const orderId = checkUuid(input.orderId, 'orderId');
    const lineId = input.lineId === null || input.lineId === undefined ? null : checkUuid(input.lineId, 'lineId');
    if (!(COMPLAINT_REASONS as readonly string[]).includes(input.reason)) throw new InputError(`reason must be one of ${COMPLAINT_REASONS.join(', ')}`, 'reason');
    const description = checkText(input.description, 'description', LIMITS.complaintDescriptionLength);
    const [order] = (await this.db.query(`SELECT id, program_id AS "programId", member_id AS "memberId", saga_step AS "sagaStep" FROM reward_orders WHERE id = $1`, [orderId])) as {
      id: string;
      programId: string;
      memberId: string;
      sagaStep: string;
    }[];
    const own = viewer.kind === 'MEMBER' && order !== undefined && viewer.memberId === order.memberId && viewer.programId === order.programId;
    // A member asking about someone else's order learns nothing about whether it exists.
    if (!order && viewer.kind !== 'MEMBER') throw new DomainError('ORDER_NOT_FOUND', 'No such reward order', 'orderId');
    if (!order || !(own || canHandleComplaints(viewer, order.programId))) throw forbidden('Members complain only about their own orders; agents only in their program');
    const hash = requestHash('openComplaint', { orderId, lineId, reason: input.reason, description });
    const existing = await this.byKey(order.programId, input.idempotencyKey, hash);
    if (existing) return { complaintId: existing };
    // An order cancelled before it was confirmed took nothing: there is nothing to complain about.
    if (order.sagaStep !== 'DONE') throw new DomainError('ORDER_NOT_CONFIRMED', 'Only a confirmed order can be complained about', 'orderId');
    if (lineId !== null) {
      const [line] = (await this.db.query(`SELECT id FROM reward_order_lines WHERE id = $1 AND order_id = $2`, [lineId, orderId])) as unknown[];
      if (!line) throw new DomainError('LINE_NOT_FOUND', 'No such line in this order', 'lineId');
    }
    const by = viewer.subject ?? viewer.kind;
    const opened = await withRetries(() =>
      this.db.transaction(async (tx) => {
        const now = this.clock.now();
        const dueAt = firstDueAt(now, await this.deadlineDays(order.programId, tx));
        const [row] = (await tx.query(
          `INSERT INTO complaints (program_id, order_id, line_id, member_id, reason, description, status, due_at, opened_by, idempotency_key, request_hash, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'OPEN', $7, $8, $9, $10, $11, $11)
           ON CONFLICT (program_id, idempotency_key) DO NOTHING RETURNING id`,
          [order.programId, orderId, lineId, order.memberId, input.reason, description, dueAt, by, input.idempotencyKey, hash, now],
        )) as { id: string }[];
        // The same key at the same moment: the other request opened it.
        if (!row) return null;
        await this.recordChange(tx, row.id, null, 'OPEN', by, null, now);
        await emit(
          tx,
          catalogEvents,
          [
            {
              type: 'ComplaintOpened',
              payload: { programId: order.programId, complaintId: row.id, orderId, memberId: order.memberId, lineId, reason: input.reason, dueAt: dueAt.toISOString(), openedAt: now.toISOString() },
            },
          ],
          now,
        );
        return row.id;
      }),
    );
    return { complaintId: opened ?? (await this.byKey(order.programId, input.idempotencyKey, hash))! };
  }

  /** An agent takes the complaint on, or resumes it while waiting for the member. */
  start(viewer: Viewer, complaintId: string): Promise<{ complaintId: string }> {
    return this.move(viewer, complaintId, 'IN_PROGRESS', null, 'agent');
  }

  /** An agent asks the member something: the deadline's clock stops until they reply. */
  askMember(viewer: Viewer, input: { complaintId: string; note: string }): Promise<{ complaintId: string }> {
    return this.move(viewer, input.complaintId, 'WAITING_FOR_MEMBER', checkText(input.note, 'note', LIMITS.complaintNoteLength), 'agent');
  }

  /** The member answers (or an agent records their answer): back to IN_PROGRESS, the clock runs again. */
  reply(viewer: Viewer, input: { complaintId: string; note: string }): Promise<{ complaintId: string }> {
    return this.move(viewer, input.complaintId, 'IN_PROGRESS', checkText(input.note, 'note', LIMITS.complaintNoteLength), 'member');
  }

  /** Closes the complaint without remedy; the reason is what the member reads. Rejecting again with the same reason changes nothing. */
  async reject(viewer: Viewer, input: { complaintId: string; reason: string }): Promise<{ complaintId: string }> {
    const complaintId = checkUuid(input.complaintId, 'complaintId');
    const reason = checkText(input.reason, 'reason', LIMITS.reasonLength);
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const c = await this.lock(tx, viewer, complaintId, 'agent');
        if (c.status === 'REJECTED' && c.resolutionNote === reason) return { complaintId };
        if (c.resolvingKey !== null && !isFinal(c.status)) throw new DomainError('COMPLAINT_CLOSED', 'Another agent is resolving this complaint', 'complaintId');
        const now = this.clock.now();
        const next = moveComplaint(c, 'REJECTED', now);
        await tx.query(
          `UPDATE complaints SET status = 'REJECTED', resolution = 'REJECTION', resolution_note = $2, due_at = $3, paused_at = NULL, resolved_at = $4, updated_at = $4 WHERE id = $1`,
          [complaintId, reason, next.dueAt, now],
        );
        const by = viewer.subject ?? viewer.kind;
        await this.recordChange(tx, complaintId, c.status, 'REJECTED', by, reason, now);
        await this.emitResolved(tx, c, 'REJECTION', 0, null, now);
        return { complaintId };
      }),
    );
  }

  /**
   * Resolves in the member's favour: REPLACEMENT places a free order of the complained line (or
   * every line) to the original address; POINTS_REFUND gives points back through the ledger, at
   * most what the order took and has not given back (REFUND_EXCEEDS_ORDER). The same key returns
   * the same resolution; another agent resolving meanwhile is refused with COMPLAINT_CLOSED.
   */
  async resolve(viewer: Viewer, input: ResolveComplaintInput): Promise<{ complaintId: string }> {
    validateKey(input.idempotencyKey);
    const complaintId = checkUuid(input.complaintId, 'complaintId');
    if (input.resolution !== 'REPLACEMENT' && input.resolution !== 'POINTS_REFUND') throw new InputError('resolution must be REPLACEMENT or POINTS_REFUND', 'resolution');
    const hasPoints = input.points !== null && input.points !== undefined;
    if (input.resolution === 'POINTS_REFUND' && !hasPoints) throw new InputError('points is required for a POINTS_REFUND', 'points');
    if (input.resolution === 'REPLACEMENT' && hasPoints) throw new InputError('points is only for a POINTS_REFUND', 'points');
    const points = hasPoints ? checkInt(input.points!, 'points', 1, LIMITS.rewardPoints) : null;
    const note = checkText(input.note, 'note', LIMITS.reasonLength);
    const hash = requestHash('resolveComplaint', { remedy: input.resolution, points, note });
    const by = viewer.subject ?? viewer.kind;
    await withRetries(() =>
      this.db.transaction(async (tx) => {
        const c = await this.lock(tx, viewer, complaintId, 'agent');
        if (c.resolvingKey === input.idempotencyKey) {
          if (c.resolvingHash !== hash) throw conflict(`idempotencyKey ${input.idempotencyKey} was already used for a different resolution of this complaint`);
          return; // Ours: finished below (or already finished: the same answer).
        }
        if (isFinal(c.status)) throw new DomainError('COMPLAINT_CLOSED', `The complaint is already ${c.status}`, 'complaintId');
        if (c.resolvingKey !== null) throw new DomainError('COMPLAINT_CLOSED', 'Another agent is resolving this complaint', 'complaintId');
        moveComplaint(c, 'RESOLVED', this.clock.now());
        await tx.query(
          `UPDATE complaints SET resolving_key = $2, resolving_hash = $3, resolving_remedy = $4, resolving_points = $5, resolving_note = $6, resolving_by = $7, resolving_since = $8 WHERE id = $1`,
          [complaintId, input.idempotencyKey, hash, input.resolution, points, note, by, this.clock.now()],
        );
      }),
    );
    await this.finish(complaintId);
    return { complaintId };
  }

  /** Finishes claimed resolutions whose request went quiet (a crash between the claim and the close). */
  async recover(limit = 100): Promise<number> {
    const rows = (await this.db.query(
      `SELECT id FROM complaints WHERE resolving_key IS NOT NULL AND status NOT IN ('RESOLVED', 'REJECTED') AND resolving_since <= $1 ORDER BY resolving_since LIMIT $2`,
      [new Date(this.clock.now().getTime() - this.options.leaseSeconds * 1000), limit],
    )) as { id: string }[];
    let done = 0;
    for (const { id } of rows) {
      try {
        await this.finish(id);
        done++;
      } catch {
        // A refusal released the claim (the agent sees the complaint still open); anything else is tried again.
      }
    }
    return done;
  }

  /**
   * Runs the claimed resolution's effect and closes the complaint. Safe to run twice at once (the
   * request and its retry, or recovery): the effect's key is derived from the complaint, and the
   * close happens once under the row lock. A business refusal of the effect releases the claim.
   */
  private async finish(complaintId: string): Promise<void> {
    const [c] = (await this.db.query(`SELECT ${LOCKED} FROM complaints c WHERE c.id = $1`, [complaintId])) as LockedComplaint[];
    if (!c || isFinal(c.status) || c.resolvingKey === null) return;
    // The effect is made as an agent of the complaint's program: the member's own limits and
    // eligibility do not apply to a replacement, and a refund is an agent's decision.
    const agent: Viewer = { ...ANONYMOUS, kind: 'STAFF', subject: c.resolvingBy, programId: c.programId, roles: ['AGENT'] };
    let replacementOrderId: string | null = null;
    let points = 0;
    try {
      if (c.resolvingRemedy === 'REPLACEMENT') {
        const lines = (await this.db.query(
          `SELECT reward_id AS "rewardId", quantity - cancelled AS quantity FROM reward_order_lines
           WHERE order_id = $1 AND ($2::uuid IS NULL OR id = $2) AND quantity > cancelled ORDER BY line_no`,
          [c.orderId, c.lineId],
        )) as { rewardId: string; quantity: number }[];
        if (lines.length === 0) throw new DomainError('NOTHING_TO_REPLACE', 'Every unit complained about was cancelled', 'complaintId');
        const [order] = (await this.db.query(`SELECT shipping_address AS address FROM reward_orders WHERE id = $1`, [c.orderId])) as { address: ShippingAddress | null }[];
        const placed = await this.orders.place(agent, { idempotencyKey: keys.replacement(complaintId), memberId: c.memberId, lines, shippingAddress: order!.address }, { complaintId });
        if (placed.failure) throw new DomainError('REPLACEMENT_FAILED', `The replacement order could not be completed: ${placed.failure.message}`, 'complaintId');
        replacementOrderId = placed.orderId;
      } else {
        await this.orderChanges.refundPoints(agent, { idempotencyKey: keys.refund(complaintId), orderId: c.orderId, points: c.resolvingPoints!, reason: c.resolvingNote! });
        points = c.resolvingPoints!;
      }
    } catch (error) {
      if (error instanceof DomainError || error instanceof InputError) {
        await this.db.query(
          `UPDATE complaints SET resolving_key = NULL, resolving_hash = NULL, resolving_remedy = NULL, resolving_points = NULL, resolving_note = NULL, resolving_by = NULL, resolving_since = NULL
           WHERE id = $1 AND resolving_key = $2 AND status NOT IN ('RESOLVED', 'REJECTED')`,
          [complaintId, c.resolvingKey],
        );
      }
      throw error;
    }
    await withRetries(() =>
      this.db.transaction(async (tx) => {
        const [locked] = (await tx.query(`SELECT ${LOCKED} FROM complaints c WHERE c.id = $1 FOR UPDATE`, [complaintId])) as LockedComplaint[];
        if (isFinal(locked!.status)) return;
        const now = this.clock.now();
        const next = moveComplaint(locked!, 'RESOLVED', now);
        await tx.query(
          `UPDATE complaints SET status = 'RESOLVED', resolution = $2, resolution_note = $3, points_refunded = $4, replacement_order_id = $5, due_at = $6, paused_at = NULL,
             resolved_at = $7, updated_at = $7 WHERE id = $1`,
          [complaintId, locked!.resolvingRemedy, locked!.resolvingNote, points, replacementOrderId, next.dueAt, now],
        );
        await this.recordChange(tx, complaintId, locked!.status, 'RESOLVED', locked!.resolvingBy ?? 'recovery', locked!.resolvingNote, now);
        await this.emitResolved(tx, locked!, locked!.resolvingRemedy!, points, replacementOrderId, now);
      }),
    );
  }

  private async move(viewer: Viewer, id: string, to: ComplaintStatus, note: string | null, as: 'agent' | 'member'): Promise<{ complaintId: string }> {
    const complaintId = checkUuid(id, 'complaintId');
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const c = await this.lock(tx, viewer, complaintId, as);
        if (c.resolvingKey !== null && !isFinal(c.status)) throw new DomainError('COMPLAINT_CLOSED', 'An agent is resolving this complaint', 'complaintId');
        // A reply answers a question: without one asked, there is nothing to resume.
        if (as === 'member' && c.status !== 'WAITING_FOR_MEMBER' && !isFinal(c.status)) {
          throw new DomainError('COMPLAINT_NOT_WAITING', 'Nobody is waiting for an answer on this complaint', 'complaintId');
        }
        const now = this.clock.now();
        const next = moveComplaint(c, to, now);
        await tx.query(`UPDATE complaints SET status = $2, due_at = $3, paused_at = $4, updated_at = $5 WHERE id = $1`, [complaintId, next.status, next.dueAt, next.pausedAt, now]);
        await this.recordChange(tx, complaintId, c.status, to, viewer.subject ?? viewer.kind, note, now);
        return { complaintId };
      }),
    );
  }

  /**
   * The complaint, locked, if the viewer may act on it: agents and admins of its program; for
   * `member`, also the member it belongs to. A member asking about another's learns nothing.
   */
  private async lock(tx: EntityManager, viewer: Viewer, complaintId: string, as: 'agent' | 'member'): Promise<LockedComplaint> {
    const [c] = (await tx.query(`SELECT ${LOCKED} FROM complaints c WHERE c.id = $1 FOR UPDATE`, [complaintId])) as LockedComplaint[];
    if (viewer.kind === 'MEMBER') {
      if (as === 'agent') throw forbidden('Complaints are worked by the program’s agents');
      if (!c || c.memberId !== viewer.memberId || c.programId !== viewer.programId) throw forbidden('Not your complaint');
      return c;
    }
    if (!c) throw new DomainError('COMPLAINT_NOT_FOUND', 'No such complaint', 'complaintId');
    if (!canHandleComplaints(viewer, c.programId)) throw forbidden('Complaints are worked by the program’s agents');
    return c;
  }

  /** The complaint opened with this key, if the request is the same; CONFLICT when it is not. */
  private async byKey(programId: string, key: string, hash: string): Promise<string | null> {
    const [row] = (await this.db.query(`SELECT id, request_hash AS hash FROM complaints WHERE program_id = $1 AND idempotency_key = $2`, [programId, key])) as { id: string; hash: string }[];
    if (!row) return null;
    if (row.hash !== hash) throw conflict(`idempotencyKey ${key} was already used for a different complaint`);
    return row.id;
  }

  private async recordChange(tx: EntityManager, complaintId: string, from: ComplaintStatus | null, to: ComplaintStatus, by: string, note: string | null, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO complaint_changes (complaint_id, seq, from_status, to_status, changed_by, note, changed_at)
       SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM complaint_changes WHERE complaint_id = $1`,
      [complaintId, from, to, by, note, at],
    );
  }

  private async emitResolved(tx: EntityManager, c: ComplaintRow, resolution: ComplaintRemedy | 'REJECTION', points: number, replacementOrderId: string | null, now: Date): Promise<void> {
    await emit(
      tx,
      catalogEvents,
      [
        {
          type: 'ComplaintResolved',
          payload: { programId: c.programId, complaintId: c.id, orderId: c.orderId, memberId: c.memberId, resolution, pointsRefunded: points, replacementOrderId, resolvedAt: now.toISOString() },
        },
      ],
      now,
    );
  }
}
