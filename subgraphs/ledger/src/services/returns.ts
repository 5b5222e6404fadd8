import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { returnLines, type ReturnSplit } from '../domain/journal';
import { checkListLength, LIMITS, optionalText } from '../domain/limits';
import { purchaseColumns, type PurchaseRow } from '../entities';
import { canOperate } from '../domain/policy';
import { pointsToReturn, type ReturnedLine } from '../domain/returns';
import { lots } from './lots';
import type { ProgramLedgerService } from './program-ledger';
import { store } from './store';

/**
 * Returns reverse exactly the points the returned lines earned: first from what is still pending,
 * then from the posted balance. Points the member already spent are clawed back (the balance may
 * go negative) or written off by the program, as the program's clawback policy says; the entry
 * records which.
 */
export class ReturnService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly programs: ProgramLedgerService,
  ) {}

  async record(viewer: Viewer, input: { idempotencyKey: string; purchaseId: string; lines?: { lineId: string; quantity: number }[] | null; reason?: string | null }): Promise<{ returnId: string }> {
    checkListLength(input.lines, 'lines', LIMITS.basketLines);
    const reason = optionalText(input.reason, 'reason', LIMITS.commentLength);
    const [found] = (await this.db.query(`SELECT program_id AS "programId" FROM purchases WHERE id = $1`, [input.purchaseId])) as { programId: string }[];
    if (!found) throw new DomainError('PURCHASE_NOT_FOUND', 'No such purchase', 'purchaseId');
    if (!canOperate(viewer, found.programId)) throw forbidden('You can record returns only in your own program');
    const { idempotencyKey, ...rest } = input;
    const request = { ...rest, reason };
    const { result } = await idempotent(
      this.db,
      { programId: found.programId, key: idempotencyKey, operation: 'recordReturn', input: request },
      (tx) => this.apply(tx, viewer, request),
      this.clock,
    );
    return result;
  }

  private async apply(tx: EntityManager, viewer: Viewer, input: { purchaseId: string; lines?: { lineId: string; quantity: number }[] | null; reason?: string | null }) {
    const now = this.clock.now();
    const [purchase] = (await tx.query(`SELECT ${purchaseColumns} FROM purchases p WHERE p.id = $1 FOR UPDATE`, [input.purchaseId])) as PurchaseRow[];
    const earlier = (await tx.query(`SELECT lines FROM purchase_returns WHERE purchase_id = $1`, [purchase!.id])) as { lines: ReturnedLine[] }[];
    const returned = pointsToReturn(purchase!.lines, earlier.flatMap((r) => r.lines), input.lines ?? null);
    const points = returned.reduce((sum, line) => sum + line.points, 0);
    // Status points were earned one for one with reward points; never return more than remain.
    const statusPoints = Math.min(points, purchase!.statusPoints - purchase!.returnedStatusPoints);
    const settings = await this.programs.settings(purchase!.programId, tx);
    const split: ReturnSplit = { fromPending: 0, fromPosted: 0, writtenOff: 0, statusFromPending: 0, statusFromPosted: 0 };

    let entryId: string | null = null;
    if (purchase!.accrualEntryId && (points > 0 || statusPoints > 0)) {
      // Points go back to whoever funded them (the partner, or the program).
      const program = await store.fundedBy(tx, purchase!.programId, purchase!.partnerId);
      const accounts = await store.lockMemberAccounts(tx, purchase!.programId, purchase!.memberId);
      if (!purchase!.postedAt) {
        split.fromPending = points;
        split.statusFromPending = statusPoints;
      } else {
        const available = await store.available(tx, accounts.reward);
        const covered = Math.min(points, Math.max(0, available));
        split.fromPosted = settings.clawbackPolicy === 'NEGATIVE_BALANCE' ? points : covered;
        split.writtenOff = points - split.fromPosted;
        split.statusFromPosted = statusPoints;
        await lots.consume(tx, accounts.reward, covered);
        // The one place a balance may go below zero: said explicitly, for this transaction only.
        if (split.fromPosted > covered) await tx.query(`SELECT set_config('ledger.clawback', 'on', true)`);
      }
      const clawback = split.fromPosted + split.writtenOff > 0 ? `CLAWBACK_${settings.clawbackPolicy}` : null;
      entryId = await store.post(
        tx,
        {
          programId: purchase!.programId,
          kind: 'RETURN',
          memberId: purchase!.memberId,
          memberAmount: -(split.fromPending + split.fromPosted),
          description: describe(split, input.reason),
          reasonCode: clawback,
          createdBy: viewer.subject,
          correctsEntryId: purchase!.accrualEntryId,
          purchaseId: purchase!.id,
          createdAt: now,
        },
        returnLines(accounts, program, split),
        [{ type: 'PointsReturned', payload: { programId: purchase!.programId, memberId: purchase!.memberId, purchaseId: purchase!.id, points, statusPoints, ...split, clawbackPolicy: settings.clawbackPolicy, partnerId: purchase!.partnerId ?? null } }],
      );
      await tx.query(`SELECT set_config('ledger.clawback', 'off', true)`);
    }
    await tx.query(`UPDATE purchases SET returned_points = returned_points + $2, returned_status_points = returned_status_points + $3 WHERE id = $1`, [purchase!.id, points, statusPoints]);
    const [row] = (await tx.query(
      `INSERT INTO purchase_returns (program_id, purchase_id, lines, points, status_points, from_pending, from_posted, written_off, clawback_policy, reason, entry_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [purchase!.programId, purchase!.id, JSON.stringify(returned), points, statusPoints, split.fromPending, split.fromPosted, split.writtenOff, settings.clawbackPolicy, input.reason ?? null, entryId, now],
    )) as { id: string }[];
    return { returnId: row!.id };
  }
}

function describe(split: ReturnSplit, reason: string | null | undefined): string {
  const parts = [`Return${reason ? `: ${reason}` : ''}`];
  if (split.fromPending) parts.push(`${split.fromPending} pending points cancelled`);
  if (split.fromPosted) parts.push(`${split.fromPosted} points taken back`);
  if (split.writtenOff) parts.push(`${split.writtenOff} already spent points written off by the program`);
  return parts.join('; ');
}
