import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { captureLines, holdLines, refundLines, releaseLines } from '../domain/journal';
import { checkPoints, checkText, LIMITS } from '../domain/limits';
import { holdColumns, type HoldRow } from '../entities';
import { canOperate } from '../domain/policy';
import { byLatestExpiry, firstPoints, refundSlices, roomInLots, type HoldSlice } from '../domain/refunds';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { assertActive, memberForWrite } from './members';
import type { ProgramLedgerService } from './program-ledger';
import { expireLots } from './expiry';
import { lots } from './lots';
import { store } from './store';

/**
 * Two-phase spending: hold (reserve), then capture (spend) or release (give back). A hold that is
 * neither captured nor released within the program's TTL is released by the expiry job. The
 * database refuses a hold larger than what the member has available, however many run at once.
 */
export class HoldService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly programs: ProgramLedgerService,
  ) {}

  async hold(viewer: Viewer, input: { idempotencyKey: string; memberId: string; points: number; reference: string }): Promise<{ holdId: string }> {
    checkPoints(input.points, 'points', 1, LIMITS.holdPoints);
    checkText(input.reference, 'reference', LIMITS.holdReferenceLength);
    const member = await memberForWrite(this.directory, viewer, input.memberId, { mustBeActive: false });
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: member.programId, key: idempotencyKey, operation: 'holdPoints', input: request },
      async (tx) => {
        assertActive(member);
        const now = this.clock.now();
        const settings = await this.programs.settings(member.programId, tx);
        const program = await store.programAccounts(tx, member.programId);
        const accounts = await store.lockMemberAccounts(tx, member.programId, member.id);
        const [available] = (await tx.query(`SELECT posted - held AS available FROM accounts WHERE id = $1`, [accounts.reward])) as { available: string }[];
        if (BigInt(available!.available) < BigInt(input.points)) {
          throw new DomainError('INSUFFICIENT_POINTS', `The member has ${available!.available} points available, ${input.points} needed`, 'points');
        }
        const expiresAt = new Date(now.getTime() + settings.holdTtlMinutes * 60_000);
        const [hold] = (await tx.query(
          `INSERT INTO holds (program_id, member_id, points, reference, status, expires_at, created_at) VALUES ($1, $2, $3, $4, 'OPEN', $5, $6) RETURNING id`,
          [member.programId, member.id, input.points, input.reference.trim(), expiresAt, now],
        )) as { id: string }[];
        // The held points leave the lots now (soonest-expiring first) and return to them on release.
        const taken = await lots.consume(tx, accounts.reward, input.points);
        await tx.query(`INSERT INTO hold_lots (hold_id, lot_id, points) SELECT $1, lot_id, points FROM unnest($2::uuid[], $3::int[]) AS t(lot_id, points)`, [
          hold!.id,
          taken.map((t) => t.lotId),
          taken.map((t) => t.points),
        ]);
        await store.post(
          tx,
          { programId: member.programId, kind: 'HOLD', memberId: member.id, memberAmount: 0, description: `Hold for ${input.reference.trim()}`, createdBy: viewer.subject, holdId: hold!.id, createdAt: now },
          holdLines(accounts, program, input.points),
          [{ type: 'PointsHeld', payload: { programId: member.programId, memberId: member.id, holdId: hold!.id, points: input.points } }],
        );
        return { holdId: hold!.id };
      },
      this.clock,
    );
    return result;
  }

  capture(viewer: Viewer, input: { idempotencyKey: string; holdId: string }) {
    return this.close(viewer, input, 'CAPTURED');
  }

  release(viewer: Viewer, input: { idempotencyKey: string; holdId: string }) {
    return this.close(viewer, input, 'RELEASED');
  }

  /**
   * Gives back captured points (a reward order cancelled after it was paid), all at once or in
   * parts, never more in total than the capture: the hold's refunded_points is raised under its
   * row lock and PostgreSQL holds it to the hold's points, however many refunds run at once.
   * The points go back to the lots the hold took them from, latest-expiring first (as a
   * release), each slice at most once (hold_lots.refunded); points that land in a lot whose date
   * passed meanwhile expire in the same transaction, so ordering and cancelling never extends an
   * expiry. After a clawback left the balance negative, refunded points first repay that.
   */
  async refund(viewer: Viewer, input: { idempotencyKey: string; holdId: string; points: number; reason: string }): Promise<{ holdId: string; entryId: string }> {
    checkPoints(input.points, 'points', 1, LIMITS.holdPoints);
    const reason = checkText(input.reason, 'reason', LIMITS.refundReasonLength);
    const [found] = (await this.db.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = $1`, [input.holdId])) as HoldRow[];
    if (!found) throw new DomainError('HOLD_NOT_FOUND', 'No such hold', 'holdId');
    if (!canOperate(viewer, found.programId)) throw forbidden('You can refund holds only in your own program');
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: found.programId, key: idempotencyKey, operation: 'refundCapturedPoints', input: request },
      async (tx) => {
        const [hold] = (await tx.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = $1 FOR UPDATE`, [input.holdId])) as HoldRow[];
        if (hold!.status !== 'CAPTURED') {
          throw new DomainError('HOLD_NOT_CAPTURED', `The hold is ${hold!.status}: only captured points can be refunded`, 'holdId');
        }
        if (hold!.refundedPoints + input.points > hold!.points) {
          const left = hold!.points - hold!.refundedPoints;
          throw new DomainError('REFUND_EXCEEDS_CAPTURE', `${left} of the hold's ${hold!.points} captured points are left to refund, ${input.points} asked`, 'points');
        }
        const now = this.clock.now();
        const member = { programId: hold!.programId, memberId: hold!.memberId };
        const program = await store.programAccounts(tx, hold!.programId);
        const accounts = await store.lockMemberAccounts(tx, hold!.programId, hold!.memberId);
        // The database's word on the total (holds_refund_within_capture), whatever the check above says.
        await tx.query(`UPDATE holds SET refunded_points = refunded_points + $2 WHERE id = $1`, [hold!.id, input.points]);
        const [capture] = (await tx.query(`SELECT id FROM journal_entries WHERE hold_id = $1 AND kind = 'CAPTURE'`, [hold!.id])) as { id: string }[];
        const entryId = await store.post(
          tx,
          {
            programId: hold!.programId,
            kind: 'REFUND',
            memberId: hold!.memberId,
            memberAmount: input.points,
            description: `Refund for ${hold!.reference}: ${reason}`,
            createdBy: viewer.subject,
            correctsEntryId: capture?.id ?? null,
            holdId: hold!.id,
            createdAt: now,
          },
          refundLines(accounts, program, input.points),
          [{ type: 'PointsRefunded', payload: { ...member, holdId: hold!.id, points: input.points, reason } }],
        );
        const slices = (await tx.query(
          `SELECT h.lot_id AS "lotId", h.points, h.refunded, l.expires_at AS "expiresAt" FROM hold_lots h JOIN point_lots l ON l.id = h.lot_id WHERE h.hold_id = $1`,
          [hold!.id],
        )) as HoldSlice[];
        const refunded = refundSlices(slices, input.points);
        await tx.query(`UPDATE hold_lots h SET refunded = h.refunded + t.points FROM unnest($2::uuid[], $3::int[]) AS t(lot_id, points) WHERE h.hold_id = $1 AND h.lot_id = t.lot_id`, [
          hold!.id,
          refunded.map((r) => r.lotId),
          refunded.map((r) => r.points),
        ]);
        const restored = firstPoints(refunded, roomInLots(await store.available(tx, accounts.reward), input.points));
        await lots.restore(tx, restored);
        const expired = restored.filter((r) => r.expiresAt !== null && r.expiresAt <= now).map((r) => r.lotId);
        if (expired.length) await expireLots(tx, member, accounts, program, now, expired);
        return { holdId: hold!.id, entryId };
      },
      this.clock,
    );
    return result;
  }

  /**
   * Releases every open hold past its expiry. One transaction per hold (see postDue for why);
   * safe on several replicas at once.
   */
  async expireDue(limit = 500): Promise<number> {
    const now = this.clock.now();
    const due = (await this.db.query(`SELECT id FROM holds WHERE status = 'OPEN' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, [now, limit])) as { id: string }[];
    let expired = 0;
    for (const { id } of due) {
      expired += await withRetries(() =>
        this.db.transaction(async (tx) => {
          const [hold] = (await tx.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = $1 AND h.status = 'OPEN' FOR UPDATE SKIP LOCKED`, [id])) as HoldRow[];
          if (!hold) return 0;
          await this.finish(tx, hold, 'EXPIRED', 'system', now);
          return 1;
        }),
      );
    }
    return expired;
  }

  private async close(viewer: Viewer, input: { idempotencyKey: string; holdId: string }, to: 'CAPTURED' | 'RELEASED'): Promise<{ holdId: string }> {
    const [found] = (await this.db.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = $1`, [input.holdId])) as HoldRow[];
    if (!found) throw new DomainError('HOLD_NOT_FOUND', 'No such hold', 'holdId');
    if (!canOperate(viewer, found.programId)) throw forbidden('You can settle holds only in your own program');
    const operation = to === 'CAPTURED' ? 'captureHold' : 'releaseHold';
    const { result } = await idempotent(
      this.db,
      { programId: found.programId, key: input.idempotencyKey, operation, input: { holdId: input.holdId } },
      async (tx) => {
        const [hold] = (await tx.query(`SELECT ${holdColumns} FROM holds h WHERE h.id = $1 FOR UPDATE`, [input.holdId])) as HoldRow[];
        if (hold!.status !== 'OPEN') {
          throw new DomainError('HOLD_NOT_OPEN', `The hold is already ${hold!.status}`, 'holdId');
        }
        // Past its TTL a hold is as good as released, even before the job gets to it.
        if (to === 'CAPTURED' && hold!.expiresAt <= this.clock.now()) {
          throw new DomainError('HOLD_EXPIRED', 'The hold expired before it was captured', 'holdId');
        }
        await this.finish(tx, hold!, to, viewer.subject, this.clock.now());
        return { holdId: hold!.id };
      },
      this.clock,
    );
    return result;
  }

  private async finish(tx: EntityManager, hold: HoldRow, to: 'CAPTURED' | 'RELEASED' | 'EXPIRED', by: string | null, now: Date): Promise<void> {
    const program = await store.programAccounts(tx, hold.programId);
    const accounts = await store.lockMemberAccounts(tx, hold.programId, hold.memberId);
    const capture = to === 'CAPTURED';
    await store.post(
      tx,
      {
        programId: hold.programId,
        kind: capture ? 'CAPTURE' : 'RELEASE',
        memberId: hold.memberId,
        memberAmount: capture ? -hold.points : 0,
        description: capture ? `Spent on ${hold.reference}` : to === 'EXPIRED' ? `Hold for ${hold.reference} expired` : `Hold for ${hold.reference} released`,
        createdBy: by,
        holdId: hold.id,
        createdAt: now,
      },
      capture ? captureLines(accounts, program, hold.points) : releaseLines(accounts, program, hold.points),
      [
        to === 'CAPTURED'
          ? { type: 'PointsRedeemed', payload: { programId: hold.programId, memberId: hold.memberId, holdId: hold.id, points: hold.points, status: to } }
          : { type: 'HoldReleased', payload: { programId: hold.programId, memberId: hold.memberId, holdId: hold.id, points: hold.points, status: to } },
      ],
    );
    if (!capture) {
      // Give the points back to the lots they came from, but only as far as the balance allows:
      // after a clawback left it negative, released points first repay that (like any credit),
      // keeping lots = available. The latest-expiring slices come back first.
      const taken = (await tx.query(
        `SELECT h.lot_id AS "lotId", h.points, l.expires_at AS "expiresAt" FROM hold_lots h JOIN point_lots l ON l.id = h.lot_id WHERE h.hold_id = $1`,
        [hold.id],
      )) as { lotId: string; points: number; expiresAt: Date | null }[];
      const restored = firstPoints(byLatestExpiry(taken), roomInLots(await store.available(tx, accounts.reward), hold.points));
      await lots.restore(tx, restored);
    }
    await tx.query(`UPDATE holds SET status = $2, closed_at = $3 WHERE id = $1`, [hold.id, to, now]);
  }
}
