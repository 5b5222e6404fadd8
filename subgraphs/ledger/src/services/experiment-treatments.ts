import type { analyticsEvents } from '@loyalty-graph/shared/contracts';
import type { ContractEvent } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import type { EarningTreatment } from '../domain/earning';

type Queryable = Pick<EntityManager, 'query'>;

/**
 * Analytics' experiments in the ledger: each member's assignment as ExperimentVariantAssigned told
 * it (kept by the handler below), and the earn multipliers in force at a purchase's time.
 */
export const experimentTreatments = {
  /**
   * One row per (experiment, member). A later event for the same pair (the stop, with endsAt)
   * updates it; ends_at only ever moves earlier (least of the two), so a redelivered older event
   * after a rewind cannot reopen a stopped treatment.
   */
  async onVariantAssigned(tx: EntityManager, { payload: p, occurredAt }: ContractEvent<typeof analyticsEvents, 'ExperimentVariantAssigned'>): Promise<void> {
    await tx.query(
      `INSERT INTO experiment_treatments (experiment_id, member_id, program_id, variant_key, holdout, earn_multiplier, starts_at, ends_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (experiment_id, member_id) DO UPDATE SET
         variant_key = excluded.variant_key,
         holdout = excluded.holdout,
         earn_multiplier = excluded.earn_multiplier,
         starts_at = excluded.starts_at,
         ends_at = CASE WHEN experiment_treatments.ends_at IS NULL THEN excluded.ends_at
                        WHEN excluded.ends_at IS NULL THEN experiment_treatments.ends_at
                        ELSE least(experiment_treatments.ends_at, excluded.ends_at) END,
         updated_at = excluded.updated_at`,
      [p.experimentId, p.memberId, p.programId, p.variantKey, p.holdout, p.earnMultiplier, p.startsAt, p.endsAt, occurredAt],
    );
  },

  /**
   * The multipliers applying to a purchase of the member at `at`: startsAt ≤ at < endsAt, not in the
   * holdout (a holdout member's event carries no multiplier anyway; checked twice on purpose).
   */
  async inForce(q: Queryable, memberId: string, at: Date): Promise<EarningTreatment[]> {
    const rows = (await q.query(
      `SELECT experiment_id AS "experimentId", variant_key AS "variantKey", earn_multiplier::text AS "earnMultiplier"
       FROM experiment_treatments
       WHERE member_id = $1 AND earn_multiplier IS NOT NULL AND NOT holdout AND starts_at <= $2 AND (ends_at IS NULL OR $2 < ends_at)
       ORDER BY experiment_id`,
      [memberId, at],
    )) as { experimentId: string; variantKey: string; earnMultiplier: string }[];
    return rows.map(toTreatment);
  },

  /** What `inForce` answers for many (member, time) pairs in one statement: a bulk batch reads them once, not per line. */
  async inForceOfMany(q: Queryable, pairs: readonly { memberId: string; at: Date }[]): Promise<EarningTreatment[][]> {
    const results = pairs.map((): EarningTreatment[] => []);
    if (!pairs.length) return results;
    const rows = (await q.query(
      `SELECT t.n, e.experiment_id AS "experimentId", e.variant_key AS "variantKey", e.earn_multiplier::text AS "earnMultiplier"
       FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS t(member_id, at, n)
       JOIN experiment_treatments e ON e.member_id = t.member_id AND e.earn_multiplier IS NOT NULL AND NOT e.holdout AND e.starts_at <= t.at AND (e.ends_at IS NULL OR t.at < e.ends_at)
       ORDER BY t.n, e.experiment_id`,
      [pairs.map((p) => p.memberId), pairs.map((p) => p.at)],
    )) as { n: string; experimentId: string; variantKey: string; earnMultiplier: string }[];
    for (const row of rows) results[Number(row.n) - 1]!.push(toTreatment(row));
    return results;
  },
};

function toTreatment(r: { experimentId: string; variantKey: string; earnMultiplier: string }): EarningTreatment {
  return { label: `experiment ${r.experimentId} variant ${r.variantKey}`, factor: trimDecimal(r.earnMultiplier) };
}

/** "1.5000" → "1.5": the factor as written in the experiment. */
function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/\.?0+$/, '') : value;
}
