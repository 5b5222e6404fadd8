import { currencyDigits, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource, EntityManager } from 'typeorm';
import {
  BACKTEST_MAX_PURCHASES,
  BacktestReplay,
  checkBacktestRange,
  draftLadder,
  type BacktestSummary,
  type LadderTier,
  type ReplayPurchase,
} from '../domain/backtest';
import { formatDecimal, parseDecimal } from '../domain/decimal';
import type { CapPeriod } from '../domain/earning';
import { periodStart } from '../domain/earning';
import { canBacktest } from '../domain/policy';
import { validateRules, type RulesInput } from '../domain/rules';
import type { StoredLine } from '../entities';

/**
 * How long a replay may run before it gives up: under the gateway's 30 s, so the caller gets a
 * clear refusal instead of a timeout (and the ledger stops working for nobody).
 */
const BACKTEST_BUDGET_MS = 25_000;

/** Purchases read per round trip: large enough to amortise it, small enough to keep memory flat. */
const BATCH = 2_000;

export interface BacktestRequest {
  from: Date;
  to: Date;
  rules: RulesInput;
  tierThresholds?: readonly { tierId: string; threshold: number }[] | null;
}

/** What the members subgraph gave through @requires: the point value and the current ladder. */
export interface ProgramFacts {
  pointValue: { amount: string; currency: string };
  tiers: readonly { id: string; name: string; rank: number; qualifyingThreshold: number }[];
}

export interface BacktestResult extends BacktestSummary {
  from: Date;
  to: Date;
  draftLadderGiven: boolean;
  liabilityImpact: { amount: string; currency: string };
}

interface Row {
  memberId: string;
  id: string;
  occurredAt: Date;
  /** occurred_at at the database's precision (microseconds, a Date keeps milliseconds): the keyset cursor. */
  cursor: string;
  channel: string;
  partnerId: string | null;
  currency: string;
  lines: StoredLine[];
  tierId: string | null;
  actualPoints: string;
  actualStatusPoints: number;
  returns: { lineId: string; quantity: number }[][] | null;
  returnedPoints: string;
  returnedStatusPoints: string;
}

/**
 * Replays a program's recorded purchases through a draft rule set (read only: one REPEATABLE READ,
 * READ ONLY transaction, so the count, every batch and the seeds see the same moment and nothing
 * can be written).
 */
export class BacktestService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    /** The most purchases one backtest replays (lowered only by tests, to see the refusal). */
    private readonly maxPurchases = BACKTEST_MAX_PURCHASES,
    /** Wall-clock time a replay may take (lowered only by tests). */
    private readonly budgetMs = BACKTEST_BUDGET_MS,
  ) {}

  async run(viewer: Viewer, programId: string, request: BacktestRequest, program: ProgramFacts): Promise<BacktestResult> {
    if (!canBacktest(viewer, programId)) throw forbidden('Only the program’s administrators and analysts backtest its earning rules');
    checkBacktestRange(request.from, request.to);
    let rules;
    try {
      rules = validateRules(request.rules, this.clock.now());
    } catch (error) {
      // The draft sits under `rules` here; the field names what publishEarningRules would name.
      if (error instanceof InputError) throw new InputError(error.message, `rules.${error.field}`);
      throw error;
    }
    const current: LadderTier[] = program.tiers.map((t) => ({ tierId: t.id, name: t.name, rank: t.rank, threshold: t.qualifyingThreshold }));
    const ladder = draftLadder(current, request.tierThresholds);
    const { from, to } = request;

    const summary = await this.db.transaction('REPEATABLE READ', async (tx) => {
      await tx.query(`SET TRANSACTION READ ONLY`);
      // Counted first (stopping one past the limit): a refusal costs one index scan, not a replay.
      const [counted] = (await tx.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM purchases WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3 LIMIT $4) p`, [
        programId,
        from,
        to,
        this.maxPurchases + 1,
      ])) as { n: number }[];
      if (counted!.n > this.maxPurchases) {
        throw new InputError(`The range holds more than ${this.maxPurchases.toLocaleString('en')} purchases: backtest a shorter one`, 'to');
      }
      const replay = new BacktestReplay(rules, from);
      // Machine time, not the injected clock: what is limited is how long the caller waits.
      const deadline = performance.now() + this.budgetMs;
      let pending: Promise<Row[]> | null = this.batch(tx, programId, from, to, null);
      while (pending) {
        const rows: Row[] = await pending;
        if (performance.now() > deadline) {
          throw new InputError(`The range could not be replayed within ${this.budgetMs / 1000} s (the gateway waits 30 s): backtest a shorter one`, 'to');
        }
        await this.seed(tx, replay, rows, from);
        // The next batch is asked for before this one is replayed: the database reads it while
        // the replay computes (about half the time each).
        const last = rows[rows.length - 1];
        pending = last && rows.length === BATCH ? this.batch(tx, programId, from, to, { at: last.cursor, id: last.id }) : null;
        // Awaited on the next turn; this only keeps a failure meanwhile from being unhandled.
        pending?.catch(() => undefined);
        for (const row of rows) replay.add(toReplay(row));
      }
      return replay.summary(current, ladder);
    });

    const difference = BigInt(summary.draftPoints - summary.actualPoints);
    return {
      ...summary,
      from,
      to,
      draftLadderGiven: request.tierThresholds != null,
      liabilityImpact: {
        // Money at the currency's decimals, half up, as Program.pointsTotals values the liability.
        amount: formatDecimal(difference * parseDecimal(program.pointValue.amount, 'pointValue'), currencyDigits(program.pointValue.currency)),
        currency: program.pointValue.currency,
      },
    };
  }

  /**
   * The next purchases after `after` in (occurred_at, id) order (keyset pagination on
   * purchases_program_occurred): each with what its accrual entry gave, the tier it earned at, and
   * the returns recorded before `to`.
   */
  private async batch(tx: EntityManager, programId: string, from: Date, to: Date, after: { at: string; id: string } | null): Promise<Row[]> {
    return (await tx.query(
      `SELECT p.id, p.member_id AS "memberId", p.occurred_at AS "occurredAt", p.occurred_at::text AS cursor, p.channel, p.partner_id AS "partnerId", p.currency, p.lines,
         CASE WHEN p.tier_known THEN p.tier_id ELSE ms.tier_id END AS "tierId",
         coalesce(e.member_amount, 0)::text AS "actualPoints",
         CASE WHEN e.id IS NULL THEN 0 ELSE p.status_points END AS "actualStatusPoints",
         r.returns, coalesce(r.points, 0)::text AS "returnedPoints", coalesce(r.status_points, 0)::text AS "returnedStatusPoints"
       FROM purchases p
       LEFT JOIN journal_entries e ON e.id = p.accrual_entry_id
       LEFT JOIN member_snapshots ms ON ms.member_id = p.member_id AND NOT p.tier_known
       LEFT JOIN LATERAL (
         SELECT json_agg(pr.lines ORDER BY pr.created_at, pr.id) AS returns, sum(pr.points) AS points, sum(pr.status_points) AS status_points
         FROM purchase_returns pr WHERE pr.purchase_id = p.id AND pr.created_at < $3
       ) r ON true
       WHERE p.program_id = $1 AND p.occurred_at < $3
         AND ${after ? '(p.occurred_at, p.id) > ($2::timestamptz, $5::uuid)' : 'p.occurred_at >= $2'}
       ORDER BY p.occurred_at, p.id
       LIMIT $4`,
      // Two shapes rather than an OR: each is a plain range on purchases_program_occurred.
      after ? [programId, after.at, to, BATCH, after.id] : [programId, from, to, BATCH],
    )) as Row[];
  }

  /**
   * For members first seen in this batch, what they actually earned before `from` in the cap
   * periods `from` falls in: the ledger's caps count those points, so the draft's do too.
   */
  private async seed(tx: EntityManager, replay: BacktestReplay, rows: Row[], from: Date): Promise<void> {
    const periods = replay.capPeriods;
    const fresh = [...new Set(rows.map((r) => r.memberId))].filter((id) => replay.isNew(id));
    if (!fresh.length) return;
    if (!periods.length) {
      for (const id of fresh) replay.seed(id, {});
      return;
    }
    const pairs = fresh.flatMap((memberId) => periods.map((period) => ({ memberId, period, start: periodStart(period, from) })));
    const sums = (await tx.query(
      `SELECT t.member_id AS "memberId", t.period, coalesce((SELECT sum(p.points) FROM purchases p WHERE p.member_id = t.member_id AND p.occurred_at >= t.start_at AND p.occurred_at < $4), 0)::text AS points
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS t(member_id, period, start_at)`,
      [pairs.map((p) => p.memberId), pairs.map((p) => p.period), pairs.map((p) => p.start), from],
    )) as { memberId: string; period: CapPeriod; points: string }[];
    const byMember = new Map<string, Partial<Record<CapPeriod, number>>>();
    for (const sum of sums) byMember.set(sum.memberId, { ...byMember.get(sum.memberId), [sum.period]: Number(sum.points) });
    for (const id of fresh) replay.seed(id, byMember.get(id) ?? {});
  }
}

function toReplay(row: Row): ReplayPurchase {
  return {
    memberId: row.memberId,
    occurredAt: row.occurredAt,
    basket: {
      currency: row.currency.trim(),
      channel: row.channel,
      partnerId: row.partnerId,
      lines: row.lines.map((l) => ({ lineId: l.lineId, sku: l.sku, category: l.category, quantity: l.quantity, amount: l.amount })),
    },
    quantities: Object.fromEntries(row.lines.map((l) => [l.lineId, l.quantity])),
    tierId: row.tierId,
    actualPoints: Number(row.actualPoints),
    actualStatusPoints: row.actualStatusPoints,
    returns: (row.returns ?? []).map((lines) => ({ lines: lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity })) })),
    actualReturnedPoints: Number(row.returnedPoints),
    actualReturnedStatusPoints: Number(row.returnedStatusPoints),
  };
}
