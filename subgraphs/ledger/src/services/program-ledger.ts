import { DomainError, forbidden, TtlCache, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource, EntityManager } from 'typeorm';
import { computeEarning, type Basket, type CapPeriod, type Earning, type EarningTreatment } from '../domain/earning';
import { ledgerSettingsColumns, ruleSetColumns, type RuleSetRow } from '../entities';
import { canConfigure } from '../domain/policy';
import { validateRules, type RulesInput } from '../domain/rules';
import { DEFAULT_SETTINGS, mergeSettings, type LedgerSettings } from '../domain/settings';
import { periodStart } from '../domain/earning';
import { checkRuleDate } from '../domain/purchase-date';
import { experimentTreatments } from './experiment-treatments';

type Queryable = Pick<EntityManager, 'query'>;

/** What the accrual path needs of a program: its settings and every rule version. */
export interface ProgramConfig {
  settings: LedgerSettings;
  ruleSets: RuleSetRow[];
}

/**
 * How long a process reuses a program's settings and rule versions on the accrual path. Edits in
 * this process apply at once (the cache is dropped); other replicas see them within this time.
 */
const CONFIG_CACHE_MS = 5_000;

/** A program's ledger configuration: settings and versioned earning rules. */
export class ProgramLedgerService {
  private readonly configCache: TtlCache<string, ProgramConfig>;

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {
    this.configCache = new TtlCache(clock, CONFIG_CACHE_MS);
  }

  /** Settings and every rule version of a program, from a short-lived cache (the hot path). */
  config(programId: string): Promise<ProgramConfig> {
    return this.configCache.getOrLoad(programId, async () => {
      const [settings, ruleSets] = await Promise.all([this.settings(programId), this.ruleHistory(programId)]);
      return { settings, ruleSets };
    });
  }

  async settings(programId: string, q: Queryable = this.db): Promise<LedgerSettings> {
    const [row] = (await q.query(`SELECT ${ledgerSettingsColumns} FROM ledger_settings s WHERE s.program_id = $1`, [programId])) as LedgerSettings[];
    return row ?? DEFAULT_SETTINGS;
  }

  async configure(viewer: Viewer, programId: string, change: Parameters<typeof mergeSettings>[1]): Promise<LedgerSettings> {
    if (!canConfigure(viewer, programId)) throw forbidden('Only the program’s administrators configure its ledger');
    this.configCache.delete(programId);
    return this.db.transaction(async (tx) => {
      // Lock the row (or the absence of it) so two admins' edits apply one after the other.
      await tx.query(`INSERT INTO ledger_settings (program_id, updated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [programId, this.clock.now()]);
      await tx.query(`SELECT 1 FROM ledger_settings WHERE program_id = $1 FOR UPDATE`, [programId]);
      const next = mergeSettings(await this.settings(programId, tx), change);
      await tx.query(
        `UPDATE ledger_settings SET return_window_days = $2, clawback_policy = $3, expiry_policy = $4, expiry_months = $5, hold_ttl_minutes = $6,
           monthly_transfer_limit = $7, monthly_donation_limit = $8, purchase_max_age_days = $9, updated_at = $10 WHERE program_id = $1`,
        [programId, next.returnWindowDays, next.clawbackPolicy, next.expiryPolicy, next.expiryMonths, next.holdTtlMinutes, next.monthlyTransferLimit, next.monthlyDonationLimit, next.purchaseMaxAgeDays, this.clock.now()],
      );
      return next;
    });
  }

  async publishRules(viewer: Viewer, programId: string, input: RulesInput & { effectiveFrom?: Date | null }): Promise<RuleSetRow> {
    if (!canConfigure(viewer, programId)) throw forbidden('Only the program’s administrators publish earning rules');
    const now = this.clock.now();
    const rules = validateRules(input, now);
    const effectiveFrom = input.effectiveFrom ?? now;
    checkRuleDate(effectiveFrom, now, 'effectiveFrom');
    this.configCache.delete(programId);
    return this.db.transaction(async (tx) => {
      // Versions are numbered per program; the advisory lock serialises concurrent publishers.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('earning_rules:' || $1))`, [programId]);
      const [rowNext] = (await tx.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM earning_rule_sets WHERE program_id = $1`, [programId])) as { next: number }[];
      const [row] = (await tx.query(
        `INSERT INTO earning_rule_sets AS rs (program_id, version, effective_from, rules, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ruleSetColumns}`,
        [programId, rowNext!.next, effectiveFrom, JSON.stringify(rules), viewer.subject, now],
      )) as RuleSetRow[];
      return row!;
    });
  }

  /** The version in force at `at` (for admins: read fresh, not from the accrual cache). */
  async rulesAt(programId: string, at: Date): Promise<RuleSetRow | null> {
    return ruleSetInForce(await this.ruleHistory(programId), at);
  }

  async ruleHistory(programId: string): Promise<RuleSetRow[]> {
    return (await this.db.query(`SELECT ${ruleSetColumns} FROM earning_rule_sets rs WHERE rs.program_id = $1 ORDER BY rs.version DESC`, [programId])) as RuleSetRow[];
  }

  /**
   * Computes what a basket earns at `at` for a member: rules in force, tier, caps so far. The
   * config is loaded by the caller before any transaction: inside one, fetching it would need a
   * second pooled connection, and a busy pool would deadlock.
   */
  async earn(
    q: Queryable,
    config: { ruleSets: RuleSetRow[] },
    memberId: string,
    tierId: string | null,
    basket: Basket,
    at: Date,
    alsoEarned: readonly { points: number; occurredAt: Date }[] = [],
    earnedBefore?: Record<CapPeriod, number>,
    treatmentsBefore?: readonly EarningTreatment[],
  ): Promise<{ earning: Earning; ruleSet: RuleSetRow }> {
    const ruleSet = ruleSetInForce(config.ruleSets, at);
    if (!ruleSet) throw new DomainError('NO_EARNING_RULES', 'The program has no earning rules in force yet', 'programId');
    const periods = ruleSet.rules.caps.map((c) => c.period);
    // `earnedBefore`: the same sums read for a whole batch at once (earnedInPeriodsOfMany).
    const earnedInPeriod = earnedBefore ? { ...earnedBefore } : await this.earnedInPeriods(q, memberId, periods, at);
    // Purchases of the same member earlier in one batch are not in the table yet: counted here
    // with the same window as the query (start of the period to `at`), so caps hold as if the
    // lines had been recorded one by one, in order.
    for (const period of periods) {
      const start = periodStart(period, at).getTime();
      for (const earlier of alsoEarned) if (earlier.occurredAt.getTime() >= start && earlier.occurredAt <= at) earnedInPeriod[period] += earlier.points;
    }
    // Analytics' experiments multiplying this member's earning at the purchase's time (a quote sees them too).
    // `treatmentsBefore`: the same, read for a whole batch at once (experimentTreatments.inForceOfMany).
    const treatments = treatmentsBefore ?? (await experimentTreatments.inForce(q, memberId, at));
    return { earning: computeEarning(ruleSet.rules, basket, { tierId, occurredAt: at, earnedInPeriod, treatments }), ruleSet };
  }

  /**
   * What `earnedInPeriods` answers, for many (member, time) pairs in one statement: a bulk batch
   * reads its caps' sums once instead of once per line. Each pair gets the periods of the rule set
   * in force at its time (none when no rule set is: `earn` refuses that line anyway). Read under
   * the members' locks, like the one-by-one query, so the sums are final.
   */
  async earnedInPeriodsOfMany(q: Queryable, config: { ruleSets: RuleSetRow[] }, pairs: readonly { memberId: string; at: Date }[]): Promise<Record<CapPeriod, number>[]> {
    const results = pairs.map((): Record<CapPeriod, number> => ({ DAY: 0, MONTH: 0, YEAR: 0 }));
    const rows: { i: number; period: CapPeriod; memberId: string; start: Date; at: Date }[] = [];
    pairs.forEach((pair, i) => {
      for (const cap of ruleSetInForce(config.ruleSets, pair.at)?.rules.caps ?? []) rows.push({ i, period: cap.period, memberId: pair.memberId, start: periodStart(cap.period, pair.at), at: pair.at });
    });
    if (!rows.length) return results;
    // bigint: returned purchases still count their points here, so the sum may pass any balance.
    const sums = (await q.query(
      `SELECT t.n, coalesce((SELECT sum(p.points) FROM purchases p WHERE p.member_id = t.member_id AND p.occurred_at >= t.start_at AND p.occurred_at <= t.at), 0)::bigint AS points
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS t(member_id, start_at, at, n)`,
      [rows.map((r) => r.memberId), rows.map((r) => r.start), rows.map((r) => r.at)],
    )) as { n: string; points: string }[];
    for (const sum of sums) {
      const row = rows[Number(sum.n) - 1]!;
      results[row.i]![row.period] = Number(sum.points);
    }
    return results;
  }

  private async earnedInPeriods(q: Queryable, memberId: string, periods: CapPeriod[], at: Date): Promise<Record<CapPeriod, number>> {
    const earned: Record<CapPeriod, number> = { DAY: 0, MONTH: 0, YEAR: 0 };
    for (const period of periods) {
      // bigint: returned purchases still count their points here, so the sum may pass any balance.
      const [row] = (await q.query(`SELECT coalesce(sum(points), 0)::bigint AS points FROM purchases WHERE member_id = $1 AND occurred_at >= $2 AND occurred_at <= $3`, [
        memberId,
        periodStart(period, at),
        at,
      ])) as { points: string }[];
      earned[period] = Number(row!.points);
    }
    return earned;
  }

  /** Program-wide figures, summed from the journal (program accounts keep no cached balance). */
  async totals(programId: string): Promise<{ issued: bigint; redeemed: bigint; expired: bigint; outstanding: bigint }> {
    const [row] = (await this.db.query(
      `SELECT
         coalesce(-sum(l.amount) FILTER (WHERE a.kind IN ('ISSUANCE', 'PARTNER_FUNDING') AND l.bucket IN ('POSTED','PENDING')), 0)::text AS issued,
         coalesce(sum(l.amount) FILTER (WHERE a.kind = 'REDEMPTION' AND l.bucket = 'POSTED'), 0)::text AS redeemed,
         coalesce(sum(l.amount) FILTER (WHERE a.kind = 'BREAKAGE' AND l.bucket = 'POSTED'), 0)::text AS expired
       FROM journal_lines l JOIN accounts a ON a.id = l.account_id
       WHERE a.program_id = $1 AND (a.owner_id IS NULL OR a.kind = 'PARTNER_FUNDING')`,
      [programId],
    )) as { issued: string; redeemed: string; expired: string }[];
    const [members] = (await this.db.query(
      `SELECT coalesce(sum(posted + pending), 0)::text AS outstanding FROM accounts WHERE program_id = $1 AND kind = 'MEMBER_REWARD'`,
      [programId],
    )) as { outstanding: string }[];
    return { issued: BigInt(row!.issued), redeemed: BigInt(row!.redeemed), expired: BigInt(row!.expired), outstanding: BigInt(members!.outstanding) };
  }
}

/** The version in force at `at`: the latest effectiveFrom not after it, then the latest version. */
export function ruleSetInForce(ruleSets: RuleSetRow[], at: Date): RuleSetRow | null {
  return ruleSets.filter((r) => r.effectiveFrom <= at).sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime() || b.version - a.version)[0] ?? null;
}
