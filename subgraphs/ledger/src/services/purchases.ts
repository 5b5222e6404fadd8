import { randomUUID } from 'node:crypto';
import { DomainError, forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, isUniqueViolation, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { validateBasket, type Basket, type EarnedLine } from '../domain/earning';
import { purchaseColumns, type PurchaseRow, type StoredLine } from '../entities';
import { accrualLines, postingLines } from '../domain/journal';
import { canFundPurchase, canImportPurchaseHistory, canReadMemberPoints, canRecordPurchase } from '../domain/policy';
import { checkPurchaseDate, checkRuleDate } from '../domain/purchase-date';
import { LIMITS } from '../domain/limits';
import { expiryFor, postsAt } from '../domain/settings';
import { lots } from './lots';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { assertActive, memberForWrite } from './members';
import type { ProgramLedgerService } from './program-ledger';
import { store } from './store';

export interface RecordPurchaseInput {
  idempotencyKey: string;
  memberId: string;
  source: string;
  externalId: string;
  basket: Basket;
  occurredAt?: Date | null;
}

/** Accrual: quote a basket, record a purchase, post pending points when the return window closes. */
export class PurchaseService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly programs: ProgramLedgerService,
  ) {}

  async quote(viewer: Viewer, memberId: string, basket: Basket, occurredAt: Date | null | undefined) {
    const [member] = await this.directory([memberId]);
    if (!member) throw new DomainError('MEMBER_NOT_FOUND', 'No such member', 'memberId');
    if (!canReadMemberPoints(viewer, memberId, member.programId)) throw forbidden('You can quote only for yourself or within your program');
    const now = this.clock.now();
    // A dry run may look ahead (next month's campaign) or back, but not beyond any rule's dates.
    if (occurredAt) checkRuleDate(occurredAt, now, 'occurredAt');
    const config = await this.programs.config(member.programId);
    const { earning, ruleSet } = await this.programs.earn(this.db, config, memberId, member.tierId, basket, occurredAt ?? now);
    return { ...earning, ruleSetVersion: ruleSet.version, currency: basket.currency };
  }

  async record(viewer: Viewer, input: RecordPurchaseInput): Promise<{ purchaseId: string; entryId: string | null }> {
    validateBasket(input.basket);
    if (!input.source || input.source.length > LIMITS.sourceLength) throw new DomainError('INVALID_SOURCE', `source must be 1 to ${LIMITS.sourceLength} characters`, 'source');
    if (!input.externalId || input.externalId.length > LIMITS.externalIdLength) {
      throw new DomainError('INVALID_EXTERNAL_ID', `externalId must be 1 to ${LIMITS.externalIdLength} characters`, 'externalId');
    }
    const member = await memberForWrite(this.directory, viewer, input.memberId, { mustBeActive: false, may: canRecordPurchase });
    // A partner's purchase is funded by that partner: its own id when the basket names none.
    // Set before the idempotency key is checked, so the stored input says who funded it (another
    // partner replaying this key sends a different input: CONFLICT, never this purchase).
    const partnerId = viewer.kind === 'PARTNER' ? (input.basket.partnerId ?? viewer.partnerId) : (input.basket.partnerId ?? null);
    if (!canFundPurchase(viewer, partnerId)) throw forbidden('A partner records only purchases it funds itself: leave basket.partnerId out or give your own');
    const { idempotencyKey, ...rest } = input;
    const request = viewer.kind === 'PARTNER' ? { ...rest, basket: { ...rest.basket, partnerId } } : rest;
    const { result } = await this.recordOnce(viewer, member, idempotencyKey, request);
    return result;
  }

  private async recordOnce(viewer: Viewer, member: MemberSnapshot, idempotencyKey: string, input: Omit<RecordPurchaseInput, 'idempotencyKey'>) {
    try {
      return await this.idempotentRecord(viewer, member, idempotencyKey, input);
    } catch (error) {
      // Two requests for the same purchase under different keys: the database lets one through.
      if (isUniqueViolation(error, 'purchases_unique_source')) {
        throw new DomainError('PURCHASE_ALREADY_RECORDED', `Purchase ${input.source}/${input.externalId} is already recorded`, 'externalId');
      }
      throw error;
    }
  }

  private async idempotentRecord(viewer: Viewer, member: MemberSnapshot, idempotencyKey: string, input: Omit<RecordPurchaseInput, 'idempotencyKey'>) {
    const config = await this.programs.config(member.programId);
    return idempotent(
      this.db,
      { programId: member.programId, key: idempotencyKey, operation: 'recordPurchase', input },
      async (tx) => {
        const now = this.clock.now();
        const occurredAt = input.occurredAt ?? now;
        assertActive(member);
        const { settings } = config;
        // Inside the idempotent call: a retry of a purchase recorded in time replays its result
        // even after the purchase has grown too old to be recorded afresh.
        checkPurchaseDate(occurredAt, now, settings.purchaseMaxAgeDays, canImportPurchaseHistory(viewer, member.programId));
        // Lock the member first: caps depend on what they earned so far, and only under the lock
        // is that sum final (two concurrent purchases must not both fit under one cap).
        const accounts = await store.lockMemberAccounts(tx, member.programId, member.id);
        const { earning, ruleSet } = await this.programs.earn(tx, config, member.id, member.tierId, input.basket, occurredAt);
        const due = postsAt(occurredAt, settings);
        const pending = due > now;
        const purchaseId = randomUUID();
        let entryId: string | null = null;
        if (earning.points > 0 || earning.statusPoints > 0) {
          const program = await store.fundedBy(tx, member.programId, input.basket.partnerId ?? null);
          entryId = await store.post(
            tx,
            { programId: member.programId, kind: 'ACCRUAL', memberId: member.id, memberAmount: earning.points, description: `Purchase ${input.source}/${input.externalId}`, createdBy: viewer.subject, purchaseId, createdAt: now },
            accrualLines(accounts, program, earning.points, earning.statusPoints, pending ? 'PENDING' : 'POSTED'),
            [{ type: 'PointsAccrued', payload: { programId: member.programId, memberId: member.id, purchaseId, points: earning.points, statusPoints: earning.statusPoints, pending, occurredAt: occurredAt.toISOString() } }],
          );
          if (!pending) await lots.credit(tx, accounts.reward, entryId, occurredAt, [{ points: earning.points, expiresAt: expiryFor(occurredAt, settings) }]);
        }
        // The (program, source, externalId) unique constraint is the check that holds under
        // concurrency: a second recording of the same sale fails here and rolls everything back.
        await tx.query(
          `INSERT INTO purchases (id, program_id, member_id, source, external_id, channel, partner_id, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, posted_at, accrual_entry_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
          [purchaseId, member.programId, member.id, input.source, input.externalId, input.basket.channel, input.basket.partnerId ?? null, input.basket.currency, earning.total, earning.points, earning.statusPoints, JSON.stringify(storedLines(input.basket, earning.lines)), ruleSet.version, occurredAt, due, pending ? null : now, entryId, now],
        );
        return { purchaseId, entryId };
      },
      this.clock,
    );
  }

  /**
   * Posts the pending points of every purchase whose return window has closed. One transaction
   * per purchase, so a job never holds one member's accounts while waiting for another's (which
   * could deadlock with a transfer). Safe on several runners at once: each purchase is claimed
   * with SKIP LOCKED and re-checked. Returns how many purchases it posted.
   */
  async postDue(limit = 500): Promise<number> {
    const now = this.clock.now();
    const due = (await this.db.query(`SELECT id FROM purchases WHERE posted_at IS NULL AND posts_at <= $1 ORDER BY posts_at LIMIT $2`, [now, limit])) as { id: string }[];
    let posted = 0;
    for (const { id } of due) {
      posted += await withRetries(() =>
        this.db.transaction(async (tx) => {
          const [purchase] = (await tx.query(`SELECT ${purchaseColumns} FROM purchases p WHERE p.id = $1 AND p.posted_at IS NULL FOR UPDATE SKIP LOCKED`, [id])) as PurchaseRow[];
          if (!purchase) return 0; // another runner has it, or already posted it
          // Returns during the window may have taken everything back already.
          const points = purchase.points - purchase.returnedPoints;
          const statusPoints = purchase.statusPoints - purchase.returnedStatusPoints;
          if (purchase.accrualEntryId && (points > 0 || statusPoints > 0)) {
            const program = await store.fundedBy(tx, purchase.programId, purchase.partnerId);
            const accounts = await store.lockMemberAccounts(tx, purchase.programId, purchase.memberId);
            const settings = await this.programs.settings(purchase.programId, tx);
            const entryId = await store.post(
              tx,
              { programId: purchase.programId, kind: 'POSTING', memberId: purchase.memberId, memberAmount: 0, description: 'Return window closed: points posted', createdBy: 'system', correctsEntryId: purchase.accrualEntryId, purchaseId: purchase.id, createdAt: now },
              postingLines(accounts, program, points, statusPoints),
              [{ type: 'PointsPosted', payload: { programId: purchase.programId, memberId: purchase.memberId, purchaseId: purchase.id, points, statusPoints } }],
            );
            await lots.credit(tx, accounts.reward, entryId, purchase.occurredAt, [{ points, expiresAt: expiryFor(purchase.occurredAt, settings) }]);
          }
          await tx.query(`UPDATE purchases SET posted_at = $2 WHERE id = $1`, [purchase.id, now]);
          return 1;
        }),
      );
    }
    return posted;
  }
}

function storedLines(basket: Basket, earned: EarnedLine[]): StoredLine[] {
  return basket.lines.map((line, i) => ({ ...earned[i]!, sku: line.sku, category: line.category, quantity: line.quantity, amount: line.amount }));
}
