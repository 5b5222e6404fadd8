import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, isUniqueViolation, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { expiryLines, reinstatementLines, type MemberAccounts, type ProgramAccounts } from '../domain/journal';
import { checkText, LIMITS } from '../domain/limits';
import { entryColumns, type JournalEntryRow } from '../entities';
import { canReinstateExpiry } from '../domain/policy';
import { expiryFor } from '../domain/settings';
import { lots } from './lots';
import type { ProgramLedgerService } from './program-ledger';
import { returning, store } from './store';

/**
 * Moves what the member's due lots still hold (expires_at ≤ now) to breakage: one EXPIRY entry
 * and its PointsExpired event. `lotIds` narrows it to those lots (a refund that put points back
 * into lots whose date passed meanwhile). The caller holds the member's account lock. Returns
 * the points expired (0: nothing was due, nothing posted).
 */
export async function expireLots(
  tx: EntityManager,
  member: { programId: string; memberId: string },
  accounts: MemberAccounts,
  program: ProgramAccounts,
  now: Date,
  lotIds: string[] | null = null,
): Promise<number> {
  const rows = await returning<{ points: number }>(
    tx,
    `WITH due AS (SELECT id, remaining FROM point_lots WHERE account_id = $1 AND remaining > 0 AND expires_at <= $2 AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[])) FOR UPDATE)
     UPDATE point_lots l SET remaining = 0 FROM due WHERE l.id = due.id RETURNING due.remaining AS points`,
    [accounts.reward, now, lotIds],
  );
  const points = rows.reduce((sum, row) => sum + row.points, 0);
  if (points === 0) return 0;
  await store.post(
    tx,
    { programId: member.programId, kind: 'EXPIRY', memberId: member.memberId, memberAmount: -points, description: `${points} points expired`, createdBy: 'system', createdAt: now },
    expiryLines(accounts, program, points),
    [{ type: 'PointsExpired', payload: { programId: member.programId, memberId: member.memberId, points } }],
  );
  return points;
}

/** Points expire to breakage when their lot's date passes; an agent can reinstate an expiry. */
export class ExpiryService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly programs: ProgramLedgerService,
  ) {}

  /**
   * Posts one EXPIRY entry per member whose lots reached their date. Safe to run twice or on
   * several replicas: the member's accounts are locked first, and lots already at zero expire
   * nothing. A lot that points came back to after its date (a refund) is due again; the refund
   * expires it itself, in its own transaction, and this would otherwise.
   */
  async expireDue(limit = 200): Promise<number> {
    const now = this.clock.now();
    const due = (await this.db.query(
      `SELECT DISTINCT a.program_id AS "programId", a.owner_id AS "memberId", a.id AS "accountId"
       FROM point_lots l JOIN accounts a ON a.id = l.account_id
       WHERE l.remaining > 0 AND l.expires_at <= $1 LIMIT $2`,
      [now, limit],
    )) as { programId: string; memberId: string; accountId: string }[];
    let expired = 0;
    const failures: unknown[] = [];
    for (const account of due) {
      // One member's failure must not stop the others' expiry: collect, go on, report at the end.
      expired += await withRetries(() =>
        this.db.transaction(async (tx) => {
          const program = await store.programAccounts(tx, account.programId);
          const accounts = await store.lockMemberAccounts(tx, account.programId, account.memberId);
          return (await expireLots(tx, { programId: account.programId, memberId: account.memberId }, accounts, program, now)) > 0 ? 1 : 0;
        }),
      ).catch((error: unknown) => {
        failures.push(error);
        return 0;
      });
    }
    if (failures.length) throw new AggregateError(failures, `${failures.length} member(s) could not be expired`);
    return expired;
  }

  async reinstate(viewer: Viewer, input: { idempotencyKey: string; expiryEntryId: string; comment: string }): Promise<{ entryId: string }> {
    const comment = checkText(input.comment, 'comment', LIMITS.commentLength);
    const [expiry] = (await this.db.query(`SELECT ${entryColumns} FROM journal_entries e WHERE e.id = $1`, [input.expiryEntryId])) as JournalEntryRow[];
    if (!expiry || expiry.kind !== 'EXPIRY') throw new DomainError('EXPIRY_NOT_FOUND', 'No such expiry entry', 'expiryEntryId');
    // An expiry entry always names its member and takes their points: −memberAmount is what expired.
    const memberId = expiry.memberId!;
    const points = -expiry.memberAmount!;
    if (!canReinstateExpiry(viewer, expiry.programId)) throw forbidden('Only the program’s agents reinstate points');
    const { idempotencyKey, ...request } = input;
    try {
      const { result } = await idempotent(
        this.db,
        { programId: expiry.programId, key: idempotencyKey, operation: 'reinstateExpiredPoints', input: request },
        async (tx) => {
          const now = this.clock.now();
          const program = await store.programAccounts(tx, expiry.programId);
          const accounts = await store.lockMemberAccounts(tx, expiry.programId, memberId);
          const entryId = await store.post(
            tx,
            { programId: expiry.programId, kind: 'REINSTATEMENT', memberId, memberAmount: points, description: comment, createdBy: viewer.subject, correctsEntryId: input.expiryEntryId, createdAt: now },
            reinstatementLines(accounts, program, points),
            [{ type: 'PointsReinstated', payload: { programId: expiry.programId, memberId, points, expiryEntryId: input.expiryEntryId } }],
          );
          // Reinstated points start a fresh expiry period under the program's policy.
          const settings = await this.programs.settings(expiry.programId, tx);
          await lots.credit(tx, accounts.reward, entryId, now, [{ points, expiresAt: expiryFor(now, settings) }]);
          return { entryId };
        },
        this.clock,
      );
      return result;
    } catch (error) {
      if (isUniqueViolation(error, 'journal_entries_one_reinstatement')) throw new DomainError('ALREADY_REINSTATED', 'This expiry was already reinstated', 'expiryEntryId');
      throw error;
    }
  }
}
