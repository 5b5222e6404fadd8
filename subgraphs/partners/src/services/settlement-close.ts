import { DomainError, type Clock, type Logger } from '@loyalty-graph/shared';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { withRetries } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { firstPeriod, periodStartingAt, statementId, type Period } from '../domain/periods';
import { reconcile, type EntryItem, type HoldFact, type HoldUse, type LedgerEntryFact, type ReconciliationProblem } from '../domain/reconciliation';
import { buildStatement, type ItemKind } from '../domain/settlement';
import type { SettlementLedger } from './settlement-ledger';
import { closedPeriods, lastClosed, originalPeriod, priceTerms } from './settlement-terms';

/** How long after a period's end the job waits before closing it, for in-flight events to land. */
export const DEFAULT_GRACE_MS = 60 * 60_000;
/**
 * SETTLEMENT_GRACE_MINUTES (0 to 10,080; 60 when unset): read once at start, like every setting,
 * and refused loudly when malformed rather than silently defaulted.
 */
export function settlementGraceMs(env: Record<string, string | undefined>): number {
  const value = env['SETTLEMENT_GRACE_MINUTES'];
  if (value === undefined || value === '') return DEFAULT_GRACE_MS;
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > 10_080) throw new Error(`SETTLEMENT_GRACE_MINUTES must be a whole number of minutes from 0 to 10,080, not ${value}`);
  return minutes * 60_000;
}

/** A partner idle for years closes one empty period after another; a run stops at this many each. */
const MAX_PERIODS_PER_RUN = 100;

/** CLOSED_ELSEWHERE: another run or replica closed the period first (not counted, the next period follows). */
type Outcome = 'CLOSED' | 'CLOSED_ELSEWHERE' | 'NOT_DUE' | 'FAILED';
interface Partner {
  id: string;
  programId: string;
}
interface Candidate {
  id: string;
  kind: ItemKind;
  points: number;
  occurredAt: Date;
  holdId: string | null;
}

/**
 * Closes settlement periods: the `settlement-close` job. A period closes once its end plus the
 * grace has passed, after reconciling the partner's items with the ledger to the point; on any
 * difference it stays open, the failure is recorded (visible to admins on the provisional
 * statement and in `settlementReconciliation`) and logged as an error, and the next run tries
 * again. Safe twice and on several replicas: each partner's close holds a transaction-scoped
 * advisory lock and re-checks, and the statement's id is derived from the period, so a period can
 * only ever be one row.
 */
export class SettlementCloser {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly ledger: SettlementLedger,
    private readonly graceMs: number = DEFAULT_GRACE_MS,
  ) {}

  /** One run of the job: every partner's due periods, oldest first. Returns how many closed. */
  async closeDue(): Promise<number> {
    const partners = (await this.db.query(
      `SELECT p.id, p.program_id AS "programId" FROM partners p WHERE EXISTS (SELECT 1 FROM partner_agreements a WHERE a.partner_id = p.id) ORDER BY p.id`,
    )) as Partner[];
    let closed = 0;
    for (const partner of partners) {
      try {
        for (let i = 0; i < MAX_PERIODS_PER_RUN; i++) {
          const outcome = await this.closeNext(partner);
          if (outcome === 'CLOSED') closed++;
          else if (outcome !== 'CLOSED_ELSEWHERE') break;
        }
      } catch (error) {
        // One partner's trouble (the ledger down) must not keep the others' periods open.
        this.logger.error('settlement close failed', { partnerId: partner.id, error });
      }
    }
    return closed;
  }

  /** Closes the partner's open period if it is due. */
  async closeNext(partner: Partner): Promise<Outcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await this.tryClose(partner);
      if (outcome !== 'RETRY') return outcome;
    }
    return 'NOT_DUE';
  }

  private async tryClose(partner: Partner): Promise<Outcome | 'RETRY'> {
    const agreements = await priceTerms(this.db, partner.id);
    if (agreements.length === 0) return 'NOT_DUE';
    const last = await lastClosed(this.db, partner.id);
    const period = last ? periodStartingAt(agreements, last.periodEnd) : firstPeriod(agreements);
    const now = this.clock.now();
    if (now.getTime() < period.end.getTime() + this.graceMs) return 'NOT_DUE';
    const id = statementId(partner.id, period.start);

    // The ledger is asked before the transaction: a peer call must not hold locks while it waits.
    const entries = await this.ledger.fundingEntries(partner.programId, partner.id, now);
    const holdIds = (
      (await this.db.query(`SELECT DISTINCT hold_id AS "holdId" FROM settlement_items WHERE partner_id = $1 AND statement_id IS NULL AND occurred_at < $2 AND hold_id IS NOT NULL`, [
        partner.id,
        period.end,
      ])) as { holdId: string }[]
    ).map((r) => r.holdId);
    const holds = holdIds.length ? await this.ledger.holds(holdIds) : [];

    const result = await withRetries(() =>
      this.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`settlement:${partner.id}`]);
        // Another run (or replica) closed it meanwhile: nothing to do here, the next period follows.
        const latest = await lastClosed(tx, partner.id);
        if ((latest?.periodEnd.getTime() ?? null) !== (last?.periodEnd.getTime() ?? null)) return { outcome: 'CLOSED_ELSEWHERE' as const };
        const candidates = (await tx.query(
          `SELECT id, kind, points, occurred_at AS "occurredAt", hold_id AS "holdId" FROM settlement_items
           WHERE partner_id = $1 AND statement_id IS NULL AND occurred_at < $2 ORDER BY occurred_at, id FOR UPDATE`,
          [partner.id, period.end],
        )) as Candidate[];
        // A redemption arrived between the ledger's answer and the lock: ask again rather than fail.
        const asked = new Set(holdIds);
        if (candidates.some((c) => c.holdId && !asked.has(c.holdId))) return { outcome: 'RETRY' as const };
        const problems = await this.reconcileClose(tx, partner.id, period, candidates, entries, holds);
        if (problems.length) return { outcome: 'FAILED' as const, problems };
        try {
          await this.file(tx, partner, id, period, candidates, last?.closingBalance ?? '0', agreements, now);
        } catch (error) {
          if (error instanceof DomainError) return { outcome: 'FAILED' as const, problems: [{ code: error.code, reference: id, message: error.message } as ReconciliationProblem] };
          throw error;
        }
        return { outcome: 'CLOSED' as const };
      }),
    );
    if (result.outcome === 'FAILED') await this.recordFailure(partner, id, period, result.problems, now);
    return result.outcome;
  }

  private async reconcileClose(tx: EntityManager, partnerId: string, period: Period, candidates: Candidate[], entries: LedgerEntryFact[], holds: (HoldFact | null)[]): Promise<ReconciliationProblem[]> {
    const filing = new Set(candidates.map((c) => c.id));
    const items = (
      (await tx.query(`SELECT id, ledger_entry_id AS "ledgerEntryId", points, occurred_at AS "occurredAt", statement_id AS "statementId" FROM settlement_items WHERE partner_id = $1 AND ledger_entry_id IS NOT NULL`, [
        partnerId,
      ])) as (Omit<EntryItem, 'filing'> & { statementId: string | null })[]
    ).map(({ statementId: filed, ...item }): EntryItem => ({ ...item, filing: filed ? 'EARLIER' : filing.has(item.id) ? 'THIS' : 'OPEN' }));
    const holdIds = [...new Set(candidates.flatMap((c) => (c.holdId ? [c.holdId] : [])))];
    return reconcile({ periodEnd: period.end, entries, items, holds, holdUses: await holdUses(tx, holdIds) });
  }

  /** Writes the statement, files its items and the payments it counts, and announces it. */
  private async file(tx: EntityManager, partner: Partner, id: string, period: Period, candidates: Candidate[], openingBalance: string, agreements: Awaited<ReturnType<typeof priceTerms>>, now: Date) {
    const payments = (await tx.query(`SELECT statement_id AS "statementId", amount::text AS amount FROM settlement_payments WHERE partner_id = $1 AND counted_in_statement_id IS NULL FOR UPDATE`, [
      partner.id,
    ])) as { statementId: string; amount: string }[];
    const built = buildStatement({ period, agreements, items: candidates, openingBalance, payments: payments.map((p) => p.amount) });
    await tx.query(
      `INSERT INTO settlement_statements (id, program_id, partner_id, period_start, period_end, currency, opening_balance, net_amount, payments, closing_balance, net_issued_points, lines, item_count, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [id, partner.programId, partner.id, period.start, period.end, built.currency, built.openingBalance, built.netAmount, built.payments, built.closingBalance, built.netIssuedPoints, JSON.stringify(built.lines), candidates.length, now],
    );
    if (candidates.length) {
      const periods = await closedPeriods(tx, partner.id);
      const priced = candidates.map((c) => ({ id: c.id, original: c.occurredAt < period.start ? originalPeriod(periods, c.occurredAt) : null, ...built.items.get(c.id)! }));
      await tx.query(
        `UPDATE settlement_items i SET statement_id = $1, adjustment = u.adjustment, original_period_start = u.original, agreement_version = u.version, price_per_point = u.price::numeric, amount = u.amount::numeric
         FROM unnest($2::uuid[], $3::boolean[], $4::timestamptz[], $5::int[], $6::text[], $7::text[]) AS u(id, adjustment, original, version, price, amount)
         WHERE i.id = u.id`,
        [id, priced.map((p) => p.id), priced.map((p) => p.adjustment), priced.map((p) => p.original), priced.map((p) => p.agreementVersion), priced.map((p) => p.pricePerPoint), priced.map((p) => p.amount)],
      );
    }
    if (payments.length) await tx.query(`UPDATE settlement_payments SET counted_in_statement_id = $1 WHERE statement_id = ANY($2::uuid[])`, [id, payments.map((p) => p.statementId)]);
    await tx.query(`DELETE FROM settlement_reconciliation_failures WHERE statement_id = $1`, [id]);
    await emit(
      tx,
      partnersEvents,
      [
        {
          type: 'SettlementStatementClosed',
          payload: { programId: partner.programId, partnerId: partner.id, statementId: id, periodStart: period.start.toISOString(), periodEnd: period.end.toISOString(), currency: built.currency, netAmount: built.netAmount, closedAt: now.toISOString() },
        },
      ],
      now,
    );
  }

  /** Loudly: an error in the log, and the problems on the provisional statement for admins. */
  private async recordFailure(partner: Partner, id: string, period: Period, problems: ReconciliationProblem[], now: Date): Promise<void> {
    this.logger.error('settlement statement does not reconcile with the ledger: period left open', { partnerId: partner.id, statementId: id, periodStart: period.start.toISOString(), problems: problems.slice(0, 20) });
    await this.db.query(
      `INSERT INTO settlement_reconciliation_failures (statement_id, partner_id, period_start, period_end, problems, attempts, first_failed_at, last_failed_at)
       VALUES ($1, $2, $3, $4, $5, 1, $6, $6)
       ON CONFLICT (statement_id) DO UPDATE SET problems = EXCLUDED.problems, attempts = settlement_reconciliation_failures.attempts + 1, last_failed_at = EXCLUDED.last_failed_at`,
      [id, partner.id, period.start, period.end, JSON.stringify(problems.slice(0, 1000)), now],
    );
  }
}

/** For each hold: the points of every order line it paid for, and the partner reversals of it. */
export async function holdUses(db: Pick<EntityManager, 'query'>, holdIds: string[]): Promise<HoldUse[]> {
  if (holdIds.length === 0) return [];
  const redeemed = (await db.query(`SELECT hold_id AS "holdId", sum(points)::int AS points FROM settlement_redeemed_lines WHERE hold_id = ANY($1::uuid[]) GROUP BY hold_id`, [holdIds])) as {
    holdId: string;
    points: number;
  }[];
  const reversed = (await db.query(`SELECT hold_id AS "holdId", (-sum(points))::int AS points FROM settlement_items WHERE kind = 'REDEMPTION_REVERSED' AND hold_id = ANY($1::uuid[]) GROUP BY hold_id`, [holdIds])) as {
    holdId: string;
    points: number;
  }[];
  const redeemedBy = new Map(redeemed.map((r) => [r.holdId, r.points]));
  const reversedBy = new Map(reversed.map((r) => [r.holdId, r.points]));
  return holdIds.map((holdId) => ({ holdId, redeemedPoints: redeemedBy.get(holdId) ?? 0, reversedPoints: reversedBy.get(holdId) ?? 0 }));
}
