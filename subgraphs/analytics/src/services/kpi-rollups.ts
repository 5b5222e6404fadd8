import type { EntityManager } from 'typeorm';

/** What one new point fact adds to its UTC day (point_days, purchase_days). */
export interface RolledUpFact {
  programId: string;
  kind: string;
  points: number;
  issuancePoints?: number;
  pendingDelta?: number;
  amount?: string | null;
  currency?: string | null;
  occurredAt: string;
}

/**
 * Adds a point fact to its day's totals. Called only when the fact row was inserted (not on a
 * redelivery), in the same transaction, so the days always equal the sums of the facts; two
 * replicas racing on a day serialize on its row. Definitions as in Kpis (the facts path).
 */
export async function rollUpPointFact(tx: EntityManager, fact: RolledUpFact): Promise<void> {
  const signed = (kind: string, minus: string) => (fact.kind === kind ? fact.points : fact.kind === minus ? -fact.points : 0);
  const purchase = fact.kind === 'ACCRUED';
  await tx.query(
    `INSERT INTO point_days (program_id, day, issued, redeemed, expired, purchases, accrued, pending_delta)
     VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (program_id, day) DO UPDATE SET
       issued = point_days.issued + $3, redeemed = point_days.redeemed + $4, expired = point_days.expired + $5,
       purchases = point_days.purchases + $6, accrued = point_days.accrued + $7, pending_delta = point_days.pending_delta + $8`,
    [fact.programId, fact.occurredAt, fact.issuancePoints ?? 0, signed('REDEEMED', 'REFUNDED'), signed('EXPIRED', 'REINSTATED'), purchase ? 1 : 0, purchase ? fact.points : 0, fact.pendingDelta ?? 0],
  );
  if (purchase && fact.amount != null && fact.currency != null) {
    await tx.query(
      `INSERT INTO purchase_days (program_id, day, currency, purchases, spend)
       VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, $3, 1, $4)
       ON CONFLICT (program_id, day, currency) DO UPDATE SET purchases = purchase_days.purchases + 1, spend = purchase_days.spend + $4`,
      [fact.programId, fact.occurredAt, fact.currency, fact.amount],
    );
  }
}

/** What one new member fact adds to its UTC day (member_days): only enrolments and qualified referrals count. */
export interface RolledUpMemberFact {
  programId: string;
  kind: string;
  referralId?: string | null;
  occurredAt: string;
}

/**
 * Adds an enrolment (and whether it carried a referral) or a qualified referral to its day. Like
 * rollUpPointFact: called only when the fact row was inserted, in the same transaction, so the
 * days always equal the counts of the facts (Kpis' facts path: ENROLLED, ENROLLED with a
 * referral_id, REFERRAL_QUALIFIED).
 */
export async function rollUpMemberFact(tx: EntityManager, fact: RolledUpMemberFact): Promise<void> {
  const enrolled = fact.kind === 'ENROLLED';
  const qualified = fact.kind === 'REFERRAL_QUALIFIED';
  // Status, tier, group and consent changes count in no KPI bucket: no row to lock.
  if (!enrolled && !qualified) return;
  await tx.query(
    `INSERT INTO member_days (program_id, day, enrolled, referred, qualified)
     VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, $3, $4, $5)
     ON CONFLICT (program_id, day) DO UPDATE SET
       enrolled = member_days.enrolled + $3, referred = member_days.referred + $4, qualified = member_days.qualified + $5`,
    [fact.programId, fact.occurredAt, enrolled ? 1 : 0, enrolled && fact.referralId != null ? 1 : 0, qualified ? 1 : 0],
  );
}
