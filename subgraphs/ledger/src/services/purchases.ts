import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { DomainError, forbidden, InputError, type Clock, type UserError, type Viewer } from '@loyalty-graph/shared';
import { idempotent, isConnectionLoss, isUniqueViolation, validateKey, withRetries } from '@loyalty-graph/shared/db';
import { isPeerUnavailable } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { validateBasket, type Basket } from '../domain/earning';
import { purchaseColumns, type PurchaseRow } from '../entities';
import { accrualLines, postingLines } from '../domain/journal';
import { canFundPurchase, canImportPurchaseHistory, canReadMemberPoints, canRecordPurchase } from '../domain/policy';
import { checkPurchaseDate, checkRuleDate } from '../domain/purchase-date';
import { LIMITS } from '../domain/limits';
import { expiryFor, postsAt } from '../domain/settings';
import { lots } from './lots';
import { partnerFunding } from './partner-funding';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { bulkSource, checkLineCount, checkMemberChoice, duplicateTransactions, isPartnerSource, partnerSource, transactionKey, type MemberChoice, type MemberIdentifier } from '../domain/ingestion';
import type { MemberIdentifiers } from './identification';
import { assertActive, checkMemberForWrite, memberForWrite } from './members';
import type { ProgramConfig, ProgramLedgerService } from './program-ledger';
import { BATCH_LINES, PurchaseBatchRecorder, RECORD_PURCHASE, storedLines, type LineOutcome, type PreparedLine, type PurchaseRequest } from './purchase-batch';
import { store } from './store';

export interface RecordPurchaseInput extends MemberChoice {
  idempotencyKey: string;
  source: string;
  externalId: string;
  basket: Basket;
  occurredAt?: Date | null;
}

/** A line of recordPurchases: a purchase named by the caller's transaction id. */
export interface RecordPurchaseLine extends MemberChoice {
  transactionId: string;
  basket: Basket;
  occurredAt?: Date | null;
}

export interface RecordPurchasesInput {
  lines: RecordPurchaseLine[];
  source?: string | null;
}

export type PurchaseLineStatus = 'RECORDED' | 'ALREADY_RECORDED' | 'REJECTED';

export interface PurchaseLineReport {
  index: number;
  transactionId: string;
  status: PurchaseLineStatus;
  purchaseId: string | null;
  error: UserError | null;
}

/**
 * Batches of one bulk call recorded at once, each in its own transaction: two keep both cores
 * busy (one computes while the other waits on PostgreSQL) and leave the pool (10 connections)
 * room for other requests.
 */
const BULK_CONCURRENCY = 2;

/** Accrual: quote a basket, record a purchase, post pending points when the return window closes. */
export class PurchaseService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly directory: MemberDirectory,
    private readonly programs: ProgramLedgerService,
    private readonly identifiers: MemberIdentifiers,
  ) {
    this.batches = new PurchaseBatchRecorder(clock, programs);
  }

  /** The multi-row path of bulk calls and imports. */
  readonly batches: PurchaseBatchRecorder;

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
    const choice = checkMemberChoice(input);
    validateKey(input.idempotencyKey);
    // A partner's purchases live in its own source: its transaction ids are its own namespace.
    const partner = viewer.kind === 'PARTNER';
    if (partner && !viewer.partnerId) throw forbidden('This key names no partner');
    const source = partner ? partnerSource(viewer.partnerId!) : input.source;
    if (!source || source.length > LIMITS.sourceLength) throw new DomainError('INVALID_SOURCE', `source must be 1 to ${LIMITS.sourceLength} characters`, 'source');
    if (!partner && isPartnerSource(source)) throw new DomainError('INVALID_SOURCE', 'Sources starting with partner: are partners’ own', 'source');
    if (!input.externalId || input.externalId.length > LIMITS.externalIdLength) {
      throw new DomainError('INVALID_EXTERNAL_ID', `externalId must be 1 to ${LIMITS.externalIdLength} characters`, 'externalId');
    }
    let memberId: string;
    if ('memberId' in choice) memberId = choice.memberId;
    else {
      const [found] = await this.identify(viewer, [choice.identifier]);
      if (!found) throw new DomainError('MEMBER_NOT_FOUND', 'No such member', 'member');
      memberId = found;
    }
    const member = await memberForWrite(this.directory, viewer, memberId, { mustBeActive: false, may: canRecordPurchase, field: 'memberId' in choice ? 'memberId' : 'member' });
    // A partner's purchase is funded by that partner: its own id when the basket names none.
    // Set before the idempotency key is checked, so the stored input says who funded it.
    const partnerId = partner ? (input.basket.partnerId ?? viewer.partnerId) : (input.basket.partnerId ?? null);
    if (!canFundPurchase(viewer, partnerId)) throw forbidden('A partner records only purchases it funds itself: leave basket.partnerId out or give your own');
    const request: PurchaseRequest = { memberId: member.id, source, externalId: input.externalId, basket: partner ? { ...input.basket, partnerId } : input.basket, occurredAt: input.occurredAt };
    // For a partner the transaction id is the key (exactly once per transaction id, however sent);
    // staff keep their own keys.
    const key = partner ? transactionKey(source, input.externalId) : input.idempotencyKey;
    const { result } = await this.recordOnce(viewer, member, key, request, partner);
    return result;
  }

  /**
   * Up to 1,000 purchases, each exactly once by its transaction id: members named by identifier are
   * found in one call to members, snapshots in one read, then each line is recorded in its own
   * transaction under a key derived from (source, transaction id), so a retried or concurrent call
   * replays what is already there. A line's refusal is its report, never the call's.
   */
  async recordMany(viewer: Viewer, input: RecordPurchasesInput): Promise<PurchaseLineReport[]> {
    checkLineCount(input.lines.length);
    if (viewer.kind === 'PARTNER' && input.source != null) throw new InputError('A partner’s purchases come from its own source: leave source out', 'source');
    if (!canRecordPurchase(viewer, viewer.programId ?? '')) throw forbidden('You can record purchases only in your own program');
    const source = bulkSource(viewer, input.source);
    const reports: PurchaseLineReport[] = input.lines.map((line, index) => ({ index, transactionId: line.transactionId, status: 'REJECTED', purchaseId: null, error: null }));
    const duplicates = duplicateTransactions(input.lines.map((line) => line.transactionId));
    const choices = input.lines.map((line, i) => {
      try {
        const first = duplicates.get(i);
        if (first !== undefined) throw new DomainError('DUPLICATE_TRANSACTION_ID', `Line ${first} of this call has the same transaction id`, 'transactionId');
        if (!line.transactionId || line.transactionId.length > LIMITS.externalIdLength) {
          throw new DomainError('INVALID_EXTERNAL_ID', `transactionId must be 1 to ${LIMITS.externalIdLength} characters`, 'transactionId');
        }
        validateBasket(line.basket);
        return checkMemberChoice(line);
      } catch (error) {
        reports[i]!.error = lineError(error, i);
        return null;
      }
    });

    // Who the identifiers are: one request to members for the whole call.
    const memberIds = choices.map((c) => (c && 'memberId' in c ? c.memberId : null));
    const byIdentifier = choices.flatMap((c, i) => (c && 'identifier' in c ? [{ i, identifier: c.identifier }] : []));
    if (byIdentifier.length > 0) {
      try {
        const found = await this.identify(viewer, byIdentifier.map((l) => l.identifier));
        byIdentifier.forEach(({ i }, n) => {
          if (found[n]) memberIds[i] = found[n];
          else reports[i]!.error = { code: 'MEMBER_NOT_FOUND', field: `lines.${i}.member`, message: 'No such member' };
        });
      } catch (error) {
        if (!isPeerUnavailable(error)) throw error;
        for (const { i } of byIdentifier) reports[i]!.error = unavailable(i, 'member');
      }
    }

    // Who the members are (program, status, tier): one read of the snapshots.
    const pending = reports.filter((r) => !r.error).map((r) => r.index);
    const wanted = [...new Set(pending.map((i) => memberIds[i]!))];
    const snapshots = new Map<string, MemberSnapshot>();
    try {
      for (const snapshot of await this.directory(wanted)) if (snapshot) snapshots.set(snapshot.id, snapshot);
    } catch (error) {
      // A member missing from the projection is read through from members: down, nothing is known.
      if (!isPeerUnavailable(error)) throw error;
      for (const i of pending) reports[i]!.error = unavailable(i, choices[i] && 'identifier' in choices[i] ? 'member' : 'memberId');
      return reports;
    }

    // The checks that need the member, then the lines in batches (a transaction each, a handful
    // of statements per batch whatever its size).
    const prepared: PreparedLine[] = [];
    for (const i of pending) {
      const line = input.lines[i]!;
      const field = choices[i] && 'identifier' in choices[i] ? 'member' : 'memberId';
      try {
        prepared.push(this.prepareLine(viewer, source, i, line, snapshots.get(memberIds[i]!) ?? null, field));
      } catch (error) {
        const refusal = lineError(error, i);
        if (!refusal) throw error;
        reports[i]!.error = refusal;
      }
    }
    for (const [index, outcome] of await this.recordPrepared(viewer, prepared)) {
      const report = reports[index]!;
      report.status = outcome.status;
      report.purchaseId = outcome.purchaseId;
      report.error = outcome.error ? lineError(new DomainError(outcome.error.code, outcome.error.message, outcome.error.field), index) : null;
    }
    return reports;
  }

  /**
   * A line whose member is known, checked as the single path checks it, with its request and key:
   * exactly once per (source, transaction id) however it is sent.
   */
  prepareLine(viewer: Viewer, source: string, index: number, line: RecordPurchaseLine, snapshot: MemberSnapshot | null, field: string): PreparedLine {
    const member = checkMemberForWrite(snapshot, viewer, { mustBeActive: false, may: canRecordPurchase, field });
    const partnerId = viewer.kind === 'PARTNER' ? (line.basket.partnerId ?? viewer.partnerId) : (line.basket.partnerId ?? null);
    if (!canFundPurchase(viewer, partnerId)) throw forbidden('A partner records only purchases it funds itself: leave basket.partnerId out or give your own');
    const basket = viewer.kind === 'PARTNER' ? { ...line.basket, partnerId } : line.basket;
    const request: PurchaseRequest = { memberId: member.id, source, externalId: line.transactionId, basket, occurredAt: line.occurredAt };
    return { index, key: transactionKey(source, line.transactionId), request, member };
  }

  /**
   * Prepared lines in batches of BATCH_LINES, each batch one transaction (retried whole on a
   * deadlock or a lost connection: the keys make a rerun replay what committed). A failure of ours
   * fails the call; what was recorded replays on retry.
   */
  private async recordPrepared(viewer: Viewer, prepared: PreparedLine[]): Promise<Map<number, LineOutcome>> {
    const outcomes = new Map<number, LineOutcome>();
    if (!prepared.length) return outcomes;
    const configs = await this.configsFor(prepared);
    const batches: PreparedLine[][] = [];
    for (let i = 0; i < prepared.length; i += BATCH_LINES) batches.push(prepared.slice(i, i + BATCH_LINES));
    await eachAtMost(batches, BULK_CONCURRENCY, async (batch) => {
      const done = await withRetries(() => this.db.transaction((tx) => this.batches.record(tx, viewer, configs, batch)), isConnectionLoss);
      for (const [index, outcome] of done) outcomes.set(index, outcome);
    });
    return outcomes;
  }

  /** Every program's settings and rules, read before any transaction (never a second pooled connection inside one). */
  async configsFor(lines: PreparedLine[]): Promise<Map<string, ProgramConfig>> {
    const configs = new Map<string, ProgramConfig>();
    for (const programId of new Set(lines.map((l) => l.member.programId))) configs.set(programId, await this.programs.config(programId));
    return configs;
  }

  /** Member ids for identifiers typed at the till, in a program (an import's, as its creator's). */
  identifyIn(programId: string, identifiers: MemberIdentifier[]): Promise<(string | null)[]> {
    return this.identifiers(programId, identifiers);
  }

  /** Member ids for identifiers typed at the till, looked up in the caller's own program only. */
  private identify(viewer: Viewer, identifiers: MemberIdentifier[]): Promise<(string | null)[]> {
    if (!viewer.programId) throw new InputError('Members are recognised by card, email or phone only within your own program: give memberId', 'member');
    return this.identifiers(viewer.programId, identifiers);
  }

  private async recordOnce(viewer: Viewer, member: MemberSnapshot, idempotencyKey: string, input: PurchaseRequest, byTransaction: boolean) {
    try {
      return await this.idempotentRecord(viewer, member, idempotencyKey, input);
    } catch (error) {
      // Two requests for the same purchase under different keys: the database lets one through.
      if (isUniqueViolation(error, 'purchases_unique_source')) {
        throw new DomainError('PURCHASE_ALREADY_RECORDED', `Purchase ${input.source}/${input.externalId} is already recorded`, 'externalId');
      }
      // Keyed by the transaction id, a different request under it is the same transaction sent
      // again with other content: the caller's business mistake, not a key clash.
      if (byTransaction && error instanceof GraphQLError && error.extensions['code'] === 'CONFLICT') {
        throw new DomainError('PURCHASE_ALREADY_RECORDED', `Transaction ${input.externalId} is already recorded with different content (member, date or basket)`, 'externalId');
      }
      throw error;
    }
  }

  private async idempotentRecord(viewer: Viewer, member: MemberSnapshot, idempotencyKey: string, input: PurchaseRequest) {
    const config = await this.programs.config(member.programId);
    return idempotent(
      this.db,
      { programId: member.programId, key: idempotencyKey, operation: RECORD_PURCHASE, input },
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
          await partnerFunding.check(tx, member.programId, input.basket.partnerId ?? null, earning.points, now);
          const program = await store.fundedBy(tx, member.programId, input.basket.partnerId ?? null);
          entryId = await store.post(
            tx,
            { programId: member.programId, kind: 'ACCRUAL', memberId: member.id, memberAmount: earning.points, description: `Purchase ${input.source}/${input.externalId}`, createdBy: viewer.subject, purchaseId, createdAt: now },
            accrualLines(accounts, program, earning.points, earning.statusPoints, pending ? 'PENDING' : 'POSTED'),
            [{ type: 'PointsAccrued', payload: { programId: member.programId, memberId: member.id, purchaseId, points: earning.points, statusPoints: earning.statusPoints, pending, occurredAt: occurredAt.toISOString(), partnerId: input.basket.partnerId ?? null, source: input.source, externalId: input.externalId, amount: earning.total, currency: input.basket.currency, channel: input.basket.channel } }],
          );
          if (!pending) await lots.credit(tx, accounts.reward, entryId, occurredAt, [{ points: earning.points, expiresAt: expiryFor(occurredAt, settings) }]);
        }
        // The (program, source, externalId) unique constraint is the check that holds under
        // concurrency: a second recording of the same sale fails here and rolls everything back.
        await tx.query(
          `INSERT INTO purchases (id, program_id, member_id, source, external_id, channel, partner_id, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, posted_at, accrual_entry_id, created_at, tier_id, tier_known)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, true)`,
          [purchaseId, member.programId, member.id, input.source, input.externalId, input.basket.channel, input.basket.partnerId ?? null, input.basket.currency, earning.total, earning.points, earning.statusPoints, JSON.stringify(storedLines(input.basket, earning.lines)), ruleSet.version, occurredAt, due, pending ? null : now, entryId, now, member.tierId],
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

/** A line's refusal as its report's error, the field prefixed with the line; null for a failure of ours. */
function lineError(error: unknown, i: number): UserError | null {
  const at = (field: string | null | undefined) => `lines.${i}${field ? `.${field === 'externalId' ? 'transactionId' : field}` : ''}`;
  if (error instanceof DomainError) return { code: error.code, field: at(error.field), message: error.message };
  if (error instanceof InputError) return { code: 'BAD_USER_INPUT', field: at(error.field), message: error.message };
  if (error instanceof GraphQLError) {
    const code = error.extensions['code'];
    if (code === 'FORBIDDEN' || code === 'BAD_USER_INPUT' || code === 'SUBGRAPH_UNAVAILABLE') {
      const field = typeof error.extensions['field'] === 'string' ? error.extensions['field'] : null;
      return { code, field: at(field), message: error.message };
    }
  }
  return null;
}

function unavailable(i: number, field: string): UserError {
  return { code: 'SUBGRAPH_UNAVAILABLE', field: `lines.${i}.${field}`, message: 'The members service is unavailable: this line was not recorded. Retry the call (recorded lines come back ALREADY_RECORDED).' };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachAtMost<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
