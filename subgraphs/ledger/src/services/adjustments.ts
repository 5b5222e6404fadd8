import { DomainError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { adjustmentLines } from '../domain/journal';
import { checkPoints, checkText, LIMITS } from '../domain/limits';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { memberForWrite } from './members';
import { expiryFor } from '../domain/settings';
import { lots } from './lots';
import type { ProgramLedgerService } from './program-ledger';
import { store } from './store';

export type AdjustmentReason = 'GOODWILL' | 'MISSING_POINTS' | 'CORRECTION' | 'FRAUD' | 'OTHER';

/** Manual corrections by an agent: always with a reason code, a comment, who and when. */
export class AdjustmentService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly programs: ProgramLedgerService,
  ) {}

  async adjust(viewer: Viewer, input: { idempotencyKey: string; memberId: string; points: number; reasonCode: AdjustmentReason; comment: string }): Promise<{ entryId: string }> {
    checkPoints(input.points, 'points', -LIMITS.adjustmentPoints, LIMITS.adjustmentPoints, true);
    const comment = checkText(input.comment, 'comment', LIMITS.commentLength);
    const member = await memberForWrite(this.directory, viewer, input.memberId, { mustBeActive: false });
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: member.programId, key: idempotencyKey, operation: 'adjustPoints', input: request },
      async (tx) => {
        const program = await store.programAccounts(tx, member.programId);
        const accounts = await store.lockMemberAccounts(tx, member.programId, member.id);
        if (input.points < 0) {
          const [row] = (await tx.query(`SELECT posted - held AS available FROM accounts WHERE id = $1`, [accounts.reward])) as { available: string }[];
          if (BigInt(row!.available) + BigInt(input.points) < 0n) {
            throw new DomainError('INSUFFICIENT_POINTS', `The member has ${row!.available} points available`, 'points');
          }
        }
        const now = this.clock.now();
        if (input.points < 0) await lots.consume(tx, accounts.reward, -input.points);
        const entryId = await store.post(
          tx,
          { programId: member.programId, kind: 'ADJUSTMENT', memberId: member.id, memberAmount: input.points, description: comment, reasonCode: input.reasonCode, createdBy: viewer.subject, createdAt: now },
          adjustmentLines(accounts, program, input.points),
          [{ type: 'PointsAdjusted', payload: { programId: member.programId, memberId: member.id, points: input.points, reasonCode: input.reasonCode } }],
        );
        if (input.points > 0) {
          const settings = await this.programs.settings(member.programId, tx);
          await lots.credit(tx, accounts.reward, entryId, now, [{ points: input.points, expiresAt: expiryFor(now, settings) }]);
        }
        return { entryId };
      },
      this.clock,
    );
    return result;
  }
}
