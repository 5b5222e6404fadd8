import { randomUUID } from 'node:crypto';
import { DomainError, InputError, type Clock, type UserError, type Viewer } from '@loyalty-graph/shared';
import { ledgerEvents, type LedgerEvents } from '@loyalty-graph/shared/contracts';
import { requestHash } from '@loyalty-graph/shared/db';
import { emit, type EmittedEvent } from '@loyalty-graph/shared/events';
import type { MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import type { Basket, EarnedLine, Earning } from '../domain/earning';
import { accrualLines, type Line, type MemberAccounts, type ProgramAccounts } from '../domain/journal';
import { canImportPurchaseHistory } from '../domain/policy';
import { checkPurchaseDate } from '../domain/purchase-date';
import { expiryFor, postsAt } from '../domain/settings';
import type { StoredLine } from '../entities';
import { assertActive } from './members';
import type { ProgramConfig, ProgramLedgerService } from './program-ledger';
import { experimentTreatments } from './experiment-treatments';
import { partnerFunding } from './partner-funding';
import { MAX_BALANCE, store } from './store';

/**
 * What is stored with a purchase's idempotency key and hashed: the purchase itself, with its member
 * resolved, so naming the member by id or by card (one at a time, in bulk or in an import) is the
 * same request. The single path (`idempotent`) and the batched one hash the same object.
 */
export interface PurchaseRequest {
  memberId: string;
  source: string;
  externalId: string;
  basket: Basket;
  occurredAt?: Date | null;
}

/** The operation name under which purchases' keys are stored (shared with `PurchaseService.record`). */
export const RECORD_PURCHASE = 'recordPurchase';

/** A line whose checks without I/O passed and whose member is known: ready to be recorded. */
export interface PreparedLine {
  /** Its position in the call or the file (reports are keyed by it). */
  index: number;
  /** transactionKey(source, transaction id). */
  key: string;
  request: PurchaseRequest;
  member: MemberSnapshot;
}

export type LineOutcome =
  | { status: 'RECORDED' | 'ALREADY_RECORDED'; purchaseId: string; error: null }
  | { status: 'REJECTED'; purchaseId: null; error: UserError };

/** Lines per transaction: large enough that statements are few, small enough that locks stay short. */
export const BATCH_LINES = 250;

/**
 * A refusal of one line that surfaced only as the batch's statement failed (the purchase's unique
 * key, a member balance out of range): the batch is redone line by line to find whose it is.
 */
class LineFault extends Error {}

/**
 * Records many purchases in one transaction with a handful of statements, however many lines:
 * one multi-row INSERT each for idempotency keys, journal entries, journal lines, outbox events,
 * lots and purchases, and one lock statement for every member's accounts (in id order, the lock
 * order of the whole ledger). Same rules as the single path: each line exactly once by its key
 * (same content replays, different content is PURCHASE_ALREADY_RECORDED), date window checked after
 * the key, caps counted across the lines of the batch, pending windows, lots, PointsAccrued.
 */
export class PurchaseBatchRecorder {
  constructor(
    private readonly clock: Clock,
    private readonly programs: ProgramLedgerService,
  ) {}

  /**
   * Records `lines` inside the caller's transaction (the import job commits its progress in the
   * same one). A line's refusal is its outcome; a failure of ours throws. When the multi-row path
   * fails because of one line, it is rolled back to a savepoint and redone one line per savepoint,
   * so that line is refused and its neighbours still recorded. `configs`: every line's program,
   * loaded before the transaction (never a second pooled connection inside one).
   */
  async record(tx: EntityManager, viewer: Viewer, configs: Map<string, ProgramConfig>, lines: PreparedLine[]): Promise<Map<number, LineOutcome>> {
    const outcomes = new Map<number, LineOutcome>();
    // One program per batch: its accounts and settings; the lines of a call are all in one anyway.
    const byProgram = new Map<string, PreparedLine[]>();
    for (const line of lines) byProgram.set(line.member.programId, [...(byProgram.get(line.member.programId) ?? []), line]);
    for (const [programId, group] of [...byProgram].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const config = configs.get(programId)!;
      await tx.query(`SAVEPOINT purchase_batch`);
      try {
        for (const [index, outcome] of await this.batch(tx, viewer, programId, config, group)) outcomes.set(index, outcome);
        await tx.query(`RELEASE SAVEPOINT purchase_batch`);
        continue;
      } catch (error) {
        if (!isLineFault(error)) throw error;
        await tx.query(`ROLLBACK TO SAVEPOINT purchase_batch`);
      }
      // Line by line: each in its own savepoint, so one line's failure rolls back only that line.
      for (const line of group) {
        await tx.query(`SAVEPOINT purchase_line`);
        try {
          for (const [index, outcome] of await this.batch(tx, viewer, programId, config, [line])) outcomes.set(index, outcome);
          await tx.query(`RELEASE SAVEPOINT purchase_line`);
        } catch (error) {
          const refusal = refusalOf(error);
          if (!refusal) throw error;
          await tx.query(`ROLLBACK TO SAVEPOINT purchase_line`);
          outcomes.set(line.index, { status: 'REJECTED', purchaseId: null, error: refusal });
        }
      }
    }
    return outcomes;
  }

  private async batch(tx: EntityManager, viewer: Viewer, programId: string, config: ProgramConfig, lines: PreparedLine[]): Promise<Map<number, LineOutcome>> {
    const outcomes = new Map<number, LineOutcome>();
    const now = this.clock.now();
    const { settings } = config;

    // 1. Claim the keys, in key order (two batches sharing keys wait for each other, never in a
    // cycle). A key already there (committed, or committed by a concurrent batch we waited for)
    // is a line recorded before: same content replays, other content is refused.
    const sorted = [...lines].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const hashes = new Map(sorted.map((l) => [l.key, requestHash(RECORD_PURCHASE, l.request)]));
    const claimedRows = (await tx.query(
      `INSERT INTO idempotency_keys (program_id, key, operation, request_hash, result, created_at)
       SELECT $1, key, $2, hash, 'null', $3 FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS t(key, hash, n) ORDER BY n
       ON CONFLICT DO NOTHING RETURNING key`,
      [programId, RECORD_PURCHASE, now, sorted.map((l) => l.key), sorted.map((l) => hashes.get(l.key))],
    )) as { key: string }[];
    const claimed = new Set(claimedRows.map((r) => r.key));
    const seen = lines.filter((l) => !claimed.has(l.key));
    if (seen.length) {
      const previous = (await tx.query(`SELECT key, operation, request_hash AS hash, result FROM idempotency_keys WHERE program_id = $1 AND key = ANY($2::text[])`, [
        programId,
        seen.map((l) => l.key),
      ])) as { key: string; operation: string; hash: string; result: { purchaseId?: string } | null }[];
      const byKey = new Map(previous.map((p) => [p.key, p]));
      for (const line of seen) {
        const row = byKey.get(line.key);
        if (row && row.operation === RECORD_PURCHASE && row.hash === hashes.get(line.key) && row.result?.purchaseId) {
          outcomes.set(line.index, { status: 'ALREADY_RECORDED', purchaseId: row.result.purchaseId, error: null });
        } else {
          outcomes.set(line.index, rejected('PURCHASE_ALREADY_RECORDED', 'externalId', `Transaction ${line.request.externalId} is already recorded with different content (member, date or basket)`));
        }
      }
    }

    // 2. Checks made after the key (a retry of a purchase recorded in time replays even once it is
    // too old to record afresh), then the member locks: caps depend on what each member earned so
    // far, and only under the lock is that sum final.
    const fresh: { line: PreparedLine; occurredAt: Date }[] = [];
    const refusedKeys: string[] = [];
    for (const line of lines.filter((l) => claimed.has(l.key))) {
      const occurredAt = line.request.occurredAt ?? now;
      try {
        assertActive(line.member);
        checkPurchaseDate(occurredAt, now, settings.purchaseMaxAgeDays, canImportPurchaseHistory(viewer, programId));
        fresh.push({ line, occurredAt });
      } catch (error) {
        outcomes.set(line.index, refusedOutcome(error));
        refusedKeys.push(line.key);
      }
    }
    const memberIds = [...new Set(fresh.map((f) => f.line.member.id))];
    const accounts = memberIds.length ? await store.lockMembersAccounts(tx, programId, memberIds) : new Map<string, MemberAccounts>();

    // 3. What each line earns, in input order, caps shared across the batch's lines of one member.
    const funders = new Map<string | null, ProgramAccounts>();
    const earnedHere = new Map<string, { points: number; occurredAt: Date }[]>();
    const records: Accrual[] = [];
    // Partners' funding limits, read once per partner for the batch; it counts the batch's own
    // accepted lines, which are not in the journal yet when a later line of the partner is judged.
    const funding = partnerFunding.batch(tx, programId, now);
    // What each member earned before this batch in each cap period, for every line in one statement
    // (under the members' locks, taken above); the batch's own earlier lines are added by `earn`.
    const earnedBefore = await this.programs.earnedInPeriodsOfMany(tx, config, fresh.map(({ line, occurredAt }) => ({ memberId: line.member.id, at: occurredAt })));
    // Analytics' experiment multipliers for every line, in one statement too.
    const treatments = await experimentTreatments.inForceOfMany(tx, fresh.map(({ line, occurredAt }) => ({ memberId: line.member.id, at: occurredAt })));
    for (const [i, { line, occurredAt }] of fresh.entries()) {
      const { member, request } = line;
      try {
        const earlier = earnedHere.get(member.id) ?? [];
        const { earning, ruleSet } = await this.programs.earn(tx, config, member.id, member.tierId, request.basket, occurredAt, earlier, earnedBefore[i], treatments[i]);
        // Per-accrual checks of a line (a partner's funding limit): a refusal here is that line's
        // outcome and its key is given back; nothing of it has been written yet.
        await funding(request.basket.partnerId ?? null, earning.points);
        earnedHere.set(member.id, [...earlier, { points: earning.points, occurredAt }]);
        const partnerId = request.basket.partnerId ?? null;
        if (!funders.has(partnerId)) funders.set(partnerId, await store.fundedBy(tx, programId, partnerId));
        const due = postsAt(occurredAt, settings);
        const purchaseId = randomUUID();
        const credits = earning.points > 0 || earning.statusPoints > 0;
        records.push({ line, occurredAt, earning, ruleSetVersion: ruleSet.version, purchaseId, entryId: credits ? randomUUID() : null, due, pending: due > now, funder: funders.get(partnerId)!, accounts: accounts.get(member.id)! });
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        outcomes.set(line.index, { status: 'REJECTED', purchaseId: null, error: refusal });
        refusedKeys.push(line.key);
      }
    }

    // 4. The writes, one statement per table. The refused lines' keys go first: a concurrent
    // batch waiting on one of them may then record that line itself.
    if (refusedKeys.length) await tx.query(`DELETE FROM idempotency_keys WHERE program_id = $1 AND key = ANY($2::text[])`, [programId, refusedKeys]);
    await this.write(tx, viewer, programId, settings, records, now);
    for (const r of records) outcomes.set(r.line.index, { status: 'RECORDED', purchaseId: r.purchaseId, error: null });
    return outcomes;
  }

  private async write(tx: EntityManager, viewer: Viewer, programId: string, settings: ProgramConfig['settings'], records: Accrual[], now: Date): Promise<void> {
    if (!records.length) return;
    const credited = records.filter((r) => r.entryId);
    if (credited.length) {
      await tx.query(
        `INSERT INTO journal_entries (id, program_id, kind, member_id, member_amount, description, created_by, purchase_id, created_at)
         SELECT id, $1, 'ACCRUAL', member_id, member_amount, description, $2, purchase_id, $3
         FROM unnest($4::uuid[], $5::uuid[], $6::int[], $7::text[], $8::uuid[]) AS t(id, member_id, member_amount, description, purchase_id)`,
        [
          programId,
          viewer.subject,
          now,
          credited.map((r) => r.entryId),
          credited.map((r) => r.line.member.id),
          credited.map((r) => r.earning.points),
          credited.map((r) => `Purchase ${r.line.request.source}/${r.line.request.externalId}`),
          credited.map((r) => r.purchaseId),
        ],
      );
      const lines: (Line & { entryId: string })[] = credited.flatMap((r) =>
        accrualLines(r.accounts, r.funder, r.earning.points, r.earning.statusPoints, r.pending ? 'PENDING' : 'POSTED').map((l) => ({ ...l, entryId: r.entryId! })),
      );
      await tx
        .query(
          `INSERT INTO journal_lines (entry_id, account_id, bucket, amount, entry_kind)
           SELECT entry_id, account_id, bucket, amount, 'ACCRUAL' FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[]) AS t(entry_id, account_id, bucket, amount)`,
          [lines.map((l) => l.entryId), lines.map((l) => l.accountId), lines.map((l) => l.bucket), lines.map((l) => l.amount)],
        )
        .catch((error: unknown) => {
          // A member balance would leave its range: whose line it is, the line-by-line redo tells.
          if (isCheckViolation(error, 'accounts_balance_in_range')) {
            throw new DomainError('BALANCE_LIMIT_EXCEEDED', `A member's points stay within ${MAX_BALANCE.toLocaleString('en-US')}; this movement would leave that range`, 'points');
          }
          throw error;
        });
      await emit(
        tx,
        ledgerEvents,
        credited.map(
          (r) =>
            ({
              type: 'PointsAccrued',
              payload: {
                programId,
                memberId: r.line.member.id,
                purchaseId: r.purchaseId,
                points: r.earning.points,
                statusPoints: r.earning.statusPoints,
                pending: r.pending,
                occurredAt: r.occurredAt.toISOString(),
                partnerId: r.line.request.basket.partnerId ?? null,
                source: r.line.request.source,
                externalId: r.line.request.externalId,
                amount: r.earning.total,
                currency: r.line.request.basket.currency,
                channel: r.line.request.basket.channel,
                entryId: r.entryId!,
              },
            }) as EmittedEvent<LedgerEvents>,
        ),
        now,
      );
      await this.creditLots(tx, settings, credited.filter((r) => !r.pending));
    }
    // The (program, source, externalId) unique key holds under concurrency whatever the keys say
    // (staff's single recordPurchase keys by its own idempotencyKey): a line that collides here
    // makes the batch redo line by line, where it is refused alone.
    const inserted = (await tx.query(
      `INSERT INTO purchases (id, program_id, member_id, source, external_id, channel, partner_id, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, posted_at, accrual_entry_id, created_at, tier_id, tier_known)
       SELECT id, $1, member_id, source, external_id, channel, partner_id, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, posted_at, accrual_entry_id, $2, tier_id, true
       FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::numeric[], $11::int[], $12::int[], $13::jsonb[], $14::int[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::uuid[], $19::uuid[])
         AS t(id, member_id, source, external_id, channel, partner_id, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, posted_at, accrual_entry_id, tier_id)
       ON CONFLICT ON CONSTRAINT purchases_unique_source DO NOTHING RETURNING id`,
      [
        programId,
        now,
        records.map((r) => r.purchaseId),
        records.map((r) => r.line.member.id),
        records.map((r) => r.line.request.source),
        records.map((r) => r.line.request.externalId),
        records.map((r) => r.line.request.basket.channel),
        records.map((r) => r.line.request.basket.partnerId ?? null),
        records.map((r) => r.line.request.basket.currency),
        records.map((r) => r.earning.total),
        records.map((r) => r.earning.points),
        records.map((r) => r.earning.statusPoints),
        records.map((r) => JSON.stringify(storedLines(r.line.request.basket, r.earning.lines))),
        records.map((r) => r.ruleSetVersion),
        records.map((r) => r.occurredAt),
        records.map((r) => r.due),
        records.map((r) => (r.pending ? null : now)),
        records.map((r) => r.entryId),
        // The tier the line earned at: backtests replay TIER multipliers with it.
        records.map((r) => r.line.member.tierId),
      ],
    )) as { id: string }[];
    if (inserted.length < records.length) {
      if (records.length > 1) throw new LineFault('a purchase of the batch is already recorded under its source');
      const { request } = records[0]!.line;
      throw new DomainError('PURCHASE_ALREADY_RECORDED', `Purchase ${request.source}/${request.externalId} is already recorded`, 'externalId');
    }
    await tx.query(
      `UPDATE idempotency_keys k SET result = t.result FROM unnest($2::text[], $3::jsonb[]) AS t(key, result) WHERE k.program_id = $1 AND k.key = t.key`,
      [programId, records.map((r) => r.line.key), records.map((r) => JSON.stringify({ purchaseId: r.purchaseId, entryId: r.entryId }))],
    );
  }

  /**
   * Lots for the posted credits, as `lots.credit` makes them one purchase after another: while a
   * clawback left a balance negative a credit first repays it, and only the rest becomes lots.
   * The balance before the batch is the one after it minus what the batch posted.
   */
  private async creditLots(tx: EntityManager, settings: ProgramConfig['settings'], posted: Accrual[]): Promise<void> {
    if (!posted.length) return;
    const accountIds = [...new Set(posted.map((r) => r.accounts.reward))];
    const rows = (await tx.query(`SELECT id, (posted - held)::int AS available FROM accounts WHERE id = ANY($1::uuid[])`, [accountIds])) as { id: string; available: number }[];
    const available = new Map(rows.map((r) => [r.id, r.available]));
    for (const r of posted) available.set(r.accounts.reward, available.get(r.accounts.reward)! - r.earning.points);
    const lots: { accountId: string; entryId: string; earnedAt: Date; expiresAt: Date | null; points: number }[] = [];
    for (const r of posted) {
      const after = available.get(r.accounts.reward)! + r.earning.points;
      available.set(r.accounts.reward, after);
      const points = Math.min(r.earning.points, Math.max(0, after));
      if (points > 0) lots.push({ accountId: r.accounts.reward, entryId: r.entryId!, earnedAt: r.occurredAt, expiresAt: expiryFor(r.occurredAt, settings), points });
    }
    if (!lots.length) return;
    await tx.query(
      `INSERT INTO point_lots (account_id, source_entry_id, earned_at, expires_at, amount, remaining)
       SELECT account_id, entry_id, earned_at, expires_at, points, points FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::int[]) AS t(account_id, entry_id, earned_at, expires_at, points)`,
      [lots.map((l) => l.accountId), lots.map((l) => l.entryId), lots.map((l) => l.earnedAt), lots.map((l) => l.expiresAt), lots.map((l) => l.points)],
    );
  }
}

interface Accrual {
  line: PreparedLine;
  occurredAt: Date;
  earning: Earning;
  ruleSetVersion: number;
  purchaseId: string;
  entryId: string | null;
  due: Date;
  pending: boolean;
  funder: ProgramAccounts;
  accounts: MemberAccounts;
}

function rejected(code: string, field: string, message: string): LineOutcome {
  return { status: 'REJECTED', purchaseId: null, error: { code, field, message } };
}

function refusedOutcome(error: unknown): LineOutcome {
  const refusal = refusalOf(error);
  if (!refusal) throw error;
  return { status: 'REJECTED', purchaseId: null, error: refusal };
}

/** A line's business refusal (field relative to the line); null for a failure of ours. */
export function refusalOf(error: unknown): UserError | null {
  if (error instanceof DomainError) return { code: error.code, field: error.field, message: error.message };
  if (error instanceof InputError) return { code: 'BAD_USER_INPUT', field: error.field, message: error.message };
  if (error instanceof GraphQLError) {
    const code = error.extensions['code'];
    if (code === 'FORBIDDEN' || code === 'BAD_USER_INPUT' || code === 'SUBGRAPH_UNAVAILABLE') {
      const field = typeof error.extensions['field'] === 'string' ? error.extensions['field'] : null;
      return { code, field, message: error.message };
    }
  }
  return null;
}

function isLineFault(error: unknown): boolean {
  return error instanceof LineFault || refusalOf(error) !== null;
}

function isCheckViolation(error: unknown, constraint: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError ?? (error as { code?: string; constraint?: string });
  return driverError?.code === '23514' && driverError.constraint === constraint;
}

export function storedLines(basket: Basket, earned: EarnedLine[]): StoredLine[] {
  return basket.lines.map((line, i) => ({ ...earned[i]!, sku: line.sku, category: line.category, quantity: line.quantity, amount: line.amount }));
}
