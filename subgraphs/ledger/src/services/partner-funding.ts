import { DomainError } from '@loyalty-graph/shared';
import type { partnersEvents } from '@loyalty-graph/shared/contracts';
import type { ContractEvent } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { admits, fundingState, modeOf, prepaidSince, termsInForce, type FundingFacts, type FundingState, type FundingTerms, type PrepaidTopUp } from '../domain/partner-funding';
import { store } from './store';

type Event<K extends 'PartnerFundingTermsChanged' | 'PartnerPrepaidPointsAdded' | 'PartnerPointsSettled'> = ContractEvent<typeof partnersEvents, K>;
type Queryable = Pick<EntityManager, 'query'>;

/**
 * Partners' funding limits in the ledger: the terms, top-ups and settled points partners announces
 * (kept by the event handlers below), and the one check every partner-funded accrual makes.
 */
export const partnerFunding = {
  /**
   * Refuses (PARTNER_FUNDING_EXHAUSTED) an accrual of `points` funded by `partnerId` that its
   * prepaid blocks or credit limit cannot cover; call it inside the accrual's transaction, before
   * its journal entry, so a refusal rolls the whole purchase back. A partner without a limit in
   * force costs one indexed read and takes no lock, so its accruals stay fully parallel. A limited
   * partner's accruals queue on its PARTNER_FUNDING account row (NO KEY UPDATE: the journal lines'
   * foreign keys only take KEY SHARE on it, so returns and postings do not wait), and the issued
   * points are summed after the lock, when every earlier accrual of the partner has committed.
   * Lock order: the member's accounts (taken by the caller first), then the partner's account.
   */
  async check(tx: EntityManager, programId: string, partnerId: string | null, points: number, now: Date): Promise<void> {
    if (!partnerId || points <= 0) return;
    const terms = await readTerms(tx, programId, [partnerId]);
    if (modeOf(termsInForce(terms.get(partnerId) ?? [], now)) === 'UNLIMITED') return;
    const account = await store.ownedProgramAccount(tx, programId, 'PARTNER_FUNDING', partnerId);
    await tx.query(`SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [account]);
    const [state] = await statesOf(tx, programId, [partnerId], now);
    if (!admits(state!, points)) throw exhausted(state!, 0, points);
  },

  /**
   * The same check for a batch of accruals in one transaction (`recordPurchases`, imports): each
   * partner's terms are read once, and a limited partner's state once, under its lock (held to
   * the end of the transaction, so the state can only change by this batch's own accruals, which
   * the checker counts itself). The batch writes its lines together at the end, so a later line of
   * a partner is judged with the earlier ones accepted. Lock order as for `check`.
   */
  batch(tx: EntityManager, programId: string, now: Date): (partnerId: string | null, points: number) => Promise<void> {
    const known = new Map<string, { state: FundingState | null; accepted: number }>();
    return async (partnerId, points) => {
      if (!partnerId || points <= 0) return;
      let entry = known.get(partnerId);
      if (!entry) {
        const terms = await readTerms(tx, programId, [partnerId]);
        let state: FundingState | null = null;
        if (modeOf(termsInForce(terms.get(partnerId) ?? [], now)) !== 'UNLIMITED') {
          const account = await store.ownedProgramAccount(tx, programId, 'PARTNER_FUNDING', partnerId);
          await tx.query(`SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [account]);
          state = (await statesOf(tx, programId, [partnerId], now))[0]!;
        }
        entry = { state, accepted: 0 };
        known.set(partnerId, entry);
      }
      if (entry.state && !admits(entry.state, entry.accepted + points)) throw exhausted(entry.state, entry.accepted, points);
      entry.accepted += points;
    };
  },

  /** Each partner's funding now, in the order given (a partner the ledger knows nothing of is UNLIMITED with nothing issued). */
  states: (db: Queryable, programId: string, partnerIds: readonly string[], now: Date): Promise<FundingState[]> => statesOf(db, programId, partnerIds, now),

  // Event handlers, in the consumer's transaction. Natural keys make a redelivery change nothing.
  async onTermsChanged(tx: EntityManager, { payload: p }: Event<'PartnerFundingTermsChanged'>): Promise<void> {
    await tx.query(
      `INSERT INTO partner_funding_terms (partner_id, program_id, version, agreement_id, effective_from, prepaid_points, credit_limit_points)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (partner_id, version) DO NOTHING`,
      [p.partnerId, p.programId, p.version, p.agreementId, p.effectiveFrom, p.prepaidPoints, p.creditLimitPoints],
    );
  },
  async onPrepaidPointsAdded(tx: EntityManager, { payload: p }: Event<'PartnerPrepaidPointsAdded'>): Promise<void> {
    await tx.query(`INSERT INTO partner_prepaid_top_ups (partner_id, program_id, reference, points, added_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partner_id, reference) DO NOTHING`, [
      p.partnerId,
      p.programId,
      p.reference,
      p.points,
      p.addedAt,
    ]);
  },
  async onPointsSettled(tx: EntityManager, { payload: p }: Event<'PartnerPointsSettled'>): Promise<void> {
    await tx.query(`INSERT INTO partner_settlements (statement_id, partner_id, program_id, points, settled_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (statement_id) DO NOTHING`, [
      p.statementId,
      p.partnerId,
      p.programId,
      p.points,
      p.settledAt,
    ]);
  },
};

function exhausted(state: FundingState, accepted: number, points: number): DomainError {
  return new DomainError(
    'PARTNER_FUNDING_EXHAUSTED',
    `The partner's ${state.mode === 'PREPAID' ? 'prepaid points are' : 'credit limit is'} exhausted: ${Math.max(0, state.remaining! - accepted)} points left, this purchase earns ${points}. Nothing was recorded.`,
  );
}

async function readTerms(db: Queryable, programId: string, partnerIds: readonly string[]): Promise<Map<string, FundingTerms[]>> {
  const rows = (await db.query(
    `SELECT partner_id AS "partnerId", version, effective_from AS "effectiveFrom", prepaid_points AS "prepaidPoints", credit_limit_points AS "creditLimitPoints"
     FROM partner_funding_terms WHERE program_id = $1 AND partner_id = ANY($2::uuid[])`,
    [programId, partnerIds],
  )) as (FundingTerms & { partnerId: string })[];
  return groupBy(rows, (r) => r.partnerId);
}

/** Four statements for any number of partners of one program. */
async function statesOf(db: Queryable, programId: string, partnerIds: readonly string[], now: Date): Promise<FundingState[]> {
  const terms = await readTerms(db, programId, partnerIds);
  const topUps = groupBy(
    (await db.query(`SELECT partner_id AS "partnerId", points, added_at AS "addedAt" FROM partner_prepaid_top_ups WHERE program_id = $1 AND partner_id = ANY($2::uuid[])`, [programId, partnerIds])) as (PrepaidTopUp & {
      partnerId: string;
    })[],
    (r) => r.partnerId,
  );
  const settled = new Map(
    ((await db.query(`SELECT partner_id AS "partnerId", sum(points)::text AS points FROM partner_settlements WHERE program_id = $1 AND partner_id = ANY($2::uuid[]) GROUP BY partner_id`, [programId, partnerIds])) as {
      partnerId: string;
      points: string;
    }[]).map((r) => [r.partnerId, Number(r.points)]),
  );
  // Issued = what left the partner's funding account (accruals, pending included) minus what came
  // back (returns); postings move points between buckets and net to zero. "since" is the first
  // prepaid terms' start (null: not prepaid, and the count since is unused).
  const since = partnerIds.map((id) => prepaidSince(terms.get(id) ?? [], now));
  const issued = new Map(
    ((await db.query(
      `SELECT s.partner_id AS "partnerId", (-sum(l.amount))::text AS total,
              coalesce(-sum(l.amount) FILTER (WHERE e.created_at >= s.since), 0)::text AS "sincePrepaid"
       FROM unnest($2::uuid[], $3::timestamptz[]) AS s (partner_id, since)
       JOIN accounts a ON a.program_id = $1 AND a.kind = 'PARTNER_FUNDING' AND a.owner_id = s.partner_id
       JOIN journal_lines l ON l.account_id = a.id AND l.bucket IN ('POSTED', 'PENDING')
       JOIN journal_entries e ON e.id = l.entry_id
       GROUP BY s.partner_id`,
      [programId, partnerIds, since],
    )) as { partnerId: string; total: string; sincePrepaid: string }[]).map((r) => [r.partnerId, { total: Number(r.total), sincePrepaid: Number(r.sincePrepaid) }]),
  );
  return partnerIds.map((id) => {
    const facts: FundingFacts = { terms: terms.get(id) ?? [], topUps: topUps.get(id) ?? [], issued: issued.get(id) ?? { total: 0, sincePrepaid: 0 }, settled: settled.get(id) ?? 0 };
    return fundingState(facts, now);
  });
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}
