import { atCommit } from '@loyalty-graph/shared/events';
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
 * redelivery), in the same transaction, so the days always equal the sums of the facts.
 * Definitions as in Kpis (the facts path). Every purchase of a day adds to the same row: in a
 * consumer's transaction the additions are summed and written once, just before the commit
 * (`atCommit`), so the row is locked for one statement, not for the whole transaction, and the
 * consumer's lanes (and replicas) do not queue behind each other on it.
 */
export async function rollUpPointFact(tx: EntityManager, fact: RolledUpFact): Promise<void> {
  const signed = (kind: string, minus: string) => (fact.kind === kind ? fact.points : fact.kind === minus ? -fact.points : 0);
  const purchase = fact.kind === 'ACCRUED';
  await atCommit(
    tx,
    'analytics.point_days',
    {
      programId: fact.programId,
      at: fact.occurredAt,
      issued: fact.issuancePoints ?? 0,
      redeemed: signed('REDEEMED', 'REFUNDED'),
      expired: signed('EXPIRED', 'REINSTATED'),
      purchases: purchase ? 1 : 0,
      accrued: purchase ? fact.points : 0,
      pendingDelta: fact.pendingDelta ?? 0,
    },
    writePointDays,
  );
  if (purchase && fact.amount != null && fact.currency != null) {
    await atCommit(tx, 'analytics.purchase_days', { programId: fact.programId, at: fact.occurredAt, currency: fact.currency, amount: fact.amount }, writePurchaseDays);
  }
}

interface PointDay {
  programId: string;
  at: string;
  issued: number;
  redeemed: number;
  expired: number;
  purchases: number;
  accrued: number;
  pendingDelta: number;
}

/**
 * One upsert for a transaction's point facts: summed per program and UTC day, in (program, day)
 * order, the same order in every writer, so two transactions wait for each other, never deadlock.
 */
async function writePointDays(tx: EntityManager, days: PointDay[]): Promise<void> {
  const column = <K extends keyof PointDay>(key: K) => days.map((d) => d[key]);
  await tx.query(
    `INSERT INTO point_days (program_id, day, issued, redeemed, expired, purchases, accrued, pending_delta)
     SELECT program_id, (at AT TIME ZONE 'UTC')::date AS day, sum(issued), sum(redeemed), sum(expired), sum(purchases), sum(accrued), sum(pending_delta)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[], $7::bigint[], $8::bigint[])
            AS f(program_id, at, issued, redeemed, expired, purchases, accrued, pending_delta)
      GROUP BY 1, 2 ORDER BY 1, 2
     ON CONFLICT (program_id, day) DO UPDATE SET
       issued = point_days.issued + excluded.issued, redeemed = point_days.redeemed + excluded.redeemed, expired = point_days.expired + excluded.expired,
       purchases = point_days.purchases + excluded.purchases, accrued = point_days.accrued + excluded.accrued, pending_delta = point_days.pending_delta + excluded.pending_delta`,
    [column('programId'), column('at'), column('issued'), column('redeemed'), column('expired'), column('purchases'), column('accrued'), column('pendingDelta')],
  );
}

/** Purchases and spend per program, UTC day and currency, like writePointDays. */
async function writePurchaseDays(tx: EntityManager, purchases: { programId: string; at: string; currency: string; amount: string }[]): Promise<void> {
  await tx.query(
    `INSERT INTO purchase_days (program_id, day, currency, purchases, spend)
     SELECT program_id, (at AT TIME ZONE 'UTC')::date, currency, count(*), sum(amount)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::numeric[]) AS f(program_id, at, currency, amount)
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
     ON CONFLICT (program_id, day, currency) DO UPDATE SET purchases = purchase_days.purchases + excluded.purchases, spend = purchase_days.spend + excluded.spend`,
    [purchases.map((p) => p.programId), purchases.map((p) => p.at), purchases.map((p) => p.currency), purchases.map((p) => p.amount)],
  );
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
 * referral_id, REFERRAL_QUALIFIED); written once per transaction.
 */
export async function rollUpMemberFact(tx: EntityManager, fact: RolledUpMemberFact): Promise<void> {
  const enrolled = fact.kind === 'ENROLLED';
  const qualified = fact.kind === 'REFERRAL_QUALIFIED';
  // Status, tier, group and consent changes count in no KPI bucket: no row to lock.
  if (!enrolled && !qualified) return;
  await atCommit(
    tx,
    'analytics.member_days',
    { programId: fact.programId, at: fact.occurredAt, enrolled: enrolled ? 1 : 0, referred: enrolled && fact.referralId != null ? 1 : 0, qualified: qualified ? 1 : 0 },
    writeMemberDays,
  );
}

async function writeMemberDays(tx: EntityManager, days: { programId: string; at: string; enrolled: number; referred: number; qualified: number }[]): Promise<void> {
  await tx.query(
    `INSERT INTO member_days (program_id, day, enrolled, referred, qualified)
     SELECT program_id, (at AT TIME ZONE 'UTC')::date, sum(enrolled), sum(referred), sum(qualified)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::int[], $5::int[]) AS f(program_id, at, enrolled, referred, qualified)
      GROUP BY 1, 2 ORDER BY 1, 2
     ON CONFLICT (program_id, day) DO UPDATE SET
       enrolled = member_days.enrolled + excluded.enrolled, referred = member_days.referred + excluded.referred, qualified = member_days.qualified + excluded.qualified`,
    [days.map((d) => d.programId), days.map((d) => d.at), days.map((d) => d.enrolled), days.map((d) => d.referred), days.map((d) => d.qualified)],
  );
}
