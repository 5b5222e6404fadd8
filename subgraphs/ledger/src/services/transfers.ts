import { DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, isUniqueViolation } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { periodStart } from '../domain/earning';
import { donationLines, transferLines } from '../domain/journal';
import { checkPoints, checkText, LIMITS, optionalText } from '../domain/limits';
import { charityColumns, type CharityRow } from '../entities';
import { canConfigure, canDonateFor, canSpendFor } from '../domain/policy';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { assertActive } from './members';
import { lots } from './lots';
import type { ProgramLedgerService } from './program-ledger';
import { store } from './store';

/** A donation needs the charity, not what it received so far (that sum reads its journal lines). */
const charityFields = charityColumns.omit('donatedPoints');
/** A charity just added has received nothing. */
const newCharityColumns = charityColumns.with({ donatedPoints: `'0'` });


/** Gifting between members and donations to the program's charities, within monthly limits. */
export class TransferService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly programs: ProgramLedgerService,
  ) {}

  async transfer(viewer: Viewer, input: { idempotencyKey: string; fromMemberId: string; toMemberId: string; points: number; message?: string | null }): Promise<{ entryId: string }> {
    checkPoints(input.points, 'points', 1, LIMITS.transferPoints);
    // Refused rather than cut: a message shown on two statements must read as it was written.
    const message = optionalText(input.message, 'message', LIMITS.transferMessageLength);
    if (input.fromMemberId === input.toMemberId) throw new InputError('A member cannot send points to themself', 'toMemberId');
    const [from, to] = await this.directory([input.fromMemberId, input.toMemberId]);
    if (!from) throw new DomainError('MEMBER_NOT_FOUND', 'No such sender', 'fromMemberId');
    if (!canSpendFor(viewer, from.id, from.programId)) throw forbidden('You can send only your own points');
    if (!to || to.programId !== from.programId) throw new DomainError('MEMBER_NOT_FOUND', 'No such member in the sender’s program', 'toMemberId');
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: from.programId, key: idempotencyKey, operation: 'transferPoints', input: request },
      async (tx) => {
        assertActive(from, 'fromMemberId');
        assertActive(to, 'toMemberId');
        const now = this.clock.now();
        const settings = await this.programs.settings(from.programId, tx);
        const accounts = await store.lockMembersAccounts(tx, from.programId, [from.id, to.id]);
        const sender = accounts.get(from.id)!;
        const receiver = accounts.get(to.id)!;
        await this.checkLimit(tx, 'TRANSFER', from.id, input.points, settings.monthlyTransferLimit, now);
        await this.checkAvailable(tx, sender.reward, input.points);
        // The receiver gets the sender's points with their expiry dates: a gift cannot extend them.
        const taken = await lots.consume(tx, sender.reward, input.points);
        const entryId = await store.post(
          tx,
          { programId: from.programId, kind: 'TRANSFER', memberId: from.id, memberAmount: -input.points, description: message ?? 'Points transfer', createdBy: viewer.subject, createdAt: now },
          transferLines(sender, receiver, input.points),
          [{ type: 'PointsTransferred', payload: { programId: from.programId, fromMemberId: from.id, toMemberId: to.id, points: input.points } }],
        );
        await lots.credit(tx, receiver.reward, entryId, now, taken.map((t) => ({ points: t.points, expiresAt: t.expiresAt })));
        return { entryId };
      },
      this.clock,
    );
    return result;
  }

  async donate(viewer: Viewer, input: { idempotencyKey: string; memberId: string; charityId: string; points: number }): Promise<{ entryId: string }> {
    checkPoints(input.points, 'points', 1, LIMITS.transferPoints);
    const [member] = await this.directory([input.memberId]);
    if (!member) throw new DomainError('MEMBER_NOT_FOUND', 'No such member', 'memberId');
    if (!canDonateFor(viewer, member.id, member.programId)) throw forbidden('You can donate only your own points');
    const [charity] = (await this.db.query(`SELECT ${charityFields} FROM charities c WHERE c.id = $1 AND c.program_id = $2`, [input.charityId, member.programId])) as Omit<CharityRow, 'donatedPoints'>[];
    if (!charity) throw new DomainError('CHARITY_NOT_FOUND', 'No such charity in the member’s program', 'charityId');
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: member.programId, key: idempotencyKey, operation: 'donatePoints', input: request },
      async (tx) => {
        assertActive(member);
        const now = this.clock.now();
        const settings = await this.programs.settings(member.programId, tx);
        const charityAccount = await this.charityAccount(tx, member.programId, charity.id);
        const accounts = await store.lockMemberAccounts(tx, member.programId, member.id);
        await this.checkLimit(tx, 'DONATION', member.id, input.points, settings.monthlyDonationLimit, now);
        await this.checkAvailable(tx, accounts.reward, input.points);
        await lots.consume(tx, accounts.reward, input.points);
        const entryId = await store.post(
          tx,
          { programId: member.programId, kind: 'DONATION', memberId: member.id, memberAmount: -input.points, description: `Donation to ${charity.name}`, createdBy: viewer.subject, createdAt: now },
          donationLines(accounts, charityAccount, input.points),
          [{ type: 'PointsDonated', payload: { programId: member.programId, memberId: member.id, charityId: charity.id, points: input.points } }],
        );
        return { entryId };
      },
      this.clock,
    );
    return result;
  }

  async createCharity(viewer: Viewer, programId: string, name: string): Promise<CharityRow> {
    if (!canConfigure(viewer, programId)) throw forbidden('Only the program’s administrators add charities');
    const trimmed = checkText(name, 'name', LIMITS.charityNameLength);
    try {
      const [row] = (await this.db.query(
        `INSERT INTO charities AS c (program_id, name, created_at) VALUES ($1, $2, $3) RETURNING ${newCharityColumns}`,
        [programId, trimmed, this.clock.now()],
      )) as CharityRow[];
      return row!;
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError('CHARITY_EXISTS', 'The program already has a charity with this name', 'name');
      throw error;
    }
  }

  async charities(programId: string): Promise<CharityRow[]> {
    return (await this.db.query(`SELECT ${charityColumns} FROM charities c WHERE c.program_id = $1 ORDER BY c.name`, [programId])) as CharityRow[];
  }

  /** Charities only receive; their balance is summed on read, so many donors never queue on one row. */
  private charityAccount(tx: EntityManager, programId: string, charityId: string): Promise<string> {
    return store.ownedProgramAccount(tx, programId, 'CHARITY', charityId);
  }

  private async checkAvailable(tx: EntityManager, accountId: string, points: number): Promise<void> {
    const available = await store.available(tx, accountId);
    if (available < points) throw new DomainError('INSUFFICIENT_POINTS', `${available} points available, ${points} needed`, 'points');
  }

  /** Sums this calendar month's transfers or donations from the account (under its lock). */
  private async checkLimit(tx: EntityManager, kind: 'TRANSFER' | 'DONATION', memberId: string, points: number, limit: number, now: Date): Promise<void> {
    if (limit === 0) throw new DomainError(kind === 'TRANSFER' ? 'TRANSFERS_DISABLED' : 'DONATIONS_DISABLED', `The program does not allow ${kind === 'TRANSFER' ? 'transfers' : 'donations'}`, 'points');
    // Transfers and donations carry the sender as member_id and −points as member_amount, so the
    // (member_id, created_at) index answers this without reading the member's whole history.
    const [row] = (await tx.query(
      `SELECT coalesce(-sum(member_amount), 0)::int AS sent FROM journal_entries WHERE member_id = $1 AND kind = $2 AND created_at >= $3`,
      [memberId, kind, periodStart('MONTH', now)],
    )) as { sent: number }[];
    if (row!.sent + points > limit) {
      throw new DomainError('LIMIT_EXCEEDED', `This month's ${kind === 'TRANSFER' ? 'transfer' : 'donation'} limit is ${limit} points; ${limit - row!.sent} left`, 'points');
    }
  }
}
