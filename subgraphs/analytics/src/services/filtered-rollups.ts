import { atCommit } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import { MEMBER_DIMENSIONS, POINT_DIMENSIONS } from './kpi-dimensions';

/**
 * The daily rollups per dimension (point_days_by, purchase_days_by, member_days_by) kept in the
 * consumer's transaction. `settle…` resolves the dimensions of the facts matching a condition
 * (kpi-dimensions.ts), updates the rows whose dimensions changed (or were never counted) and moves
 * what they add from the days they were counted under to the new ones: one path for a new fact
 * (counted once) and for a correction (a late TIER_CHANGED or ENROLLED, a purchase arriving after
 * its return). The caller holds the member's member_state row lock, so a concurrent transaction
 * about the same member (a tier change racing its purchases) is seen once it commits.
 * The additions are written once per transaction before the commit (`atCommit`), as kpi-rollups.ts.
 */

interface Dimensions {
  tierId: string | null;
  partnerId: string | null;
}

interface PointDayBy extends Dimensions {
  programId: string;
  day: string;
  channel: string | null;
  issued: number;
  redeemed: number;
  expired: number;
  purchases: number;
  accrued: number;
  pendingDelta: number;
}

interface PurchaseDayBy extends Dimensions {
  programId: string;
  day: string;
  channel: string | null;
  currency: string;
  sign: number;
  amount: string;
}

interface MemberDayBy extends Dimensions {
  programId: string;
  day: string;
  enrolled: number;
  referred: number;
  qualified: number;
}

interface MovedPoint {
  program_id: string;
  day: string;
  kind: string;
  points: string;
  issuance_points: string;
  pending_delta: string;
  amount: string | null;
  currency: string | null;
  old_at: Date | null;
  old_tier_id: string | null;
  old_partner_id: string | null;
  old_channel: string | null;
  tier_id: string | null;
  partner_id: string | null;
  channel: string | null;
}

/** Counts (or moves) the point facts matching `where` (on alias f, parameters from $1) under their dimensions. */
export async function settlePointFacts(tx: EntityManager, where: string, params: unknown[]): Promise<void> {
  const moved = (await tx.query(
    `WITH r AS (${POINT_DIMENSIONS(where)})
     UPDATE point_facts f SET kpi_tier_id = r.tier_id, kpi_partner_id = r.partner_id, kpi_channel = r.channel, kpi_at = r.at
       FROM r WHERE f.event_id = r.event_id AND f.member_id = r.member_id
        AND (r.old_at IS NULL OR (r.old_tier_id, r.old_partner_id, r.old_channel, r.old_at) IS DISTINCT FROM (r.tier_id, r.partner_id, r.channel, r.at))
     RETURNING f.program_id, f.day::text AS day, f.kind, f.points::text, f.issuance_points::text, f.pending_delta::text, f.amount::text, f.currency,
               r.old_at, r.old_tier_id, r.old_partner_id, r.old_channel, r.tier_id, r.partner_id, r.channel`,
    params,
  )) as [MovedPoint[], number] | MovedPoint[];
  for (const row of rows(moved)) {
    if (row.old_at !== null) await addPoint(tx, row, { tierId: row.old_tier_id, partnerId: row.old_partner_id }, row.old_channel, -1);
    await addPoint(tx, row, { tierId: row.tier_id, partnerId: row.partner_id }, row.channel, 1);
  }
}

/** TypeORM returns an UPDATE's RETURNING rows as [rows, count]. */
const rows = <T>(result: [T[], number] | T[]): T[] => (Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]));

async function addPoint(tx: EntityManager, fact: MovedPoint, at: Dimensions, channel: string | null, sign: number): Promise<void> {
  const points = Number(fact.points);
  const signed = (kind: string, minus: string) => (fact.kind === kind ? points : fact.kind === minus ? -points : 0);
  const purchase = fact.kind === 'ACCRUED';
  const day: PointDayBy = {
    programId: fact.program_id,
    day: fact.day,
    ...at,
    channel,
    issued: sign * Number(fact.issuance_points),
    redeemed: sign * signed('REDEEMED', 'REFUNDED'),
    expired: sign * signed('EXPIRED', 'REINSTATED'),
    purchases: purchase ? sign : 0,
    accrued: purchase ? sign * points : 0,
    pendingDelta: sign * Number(fact.pending_delta),
  };
  // Transfers, adjustments and donations count in no figure: no row to lock.
  if (day.issued || day.redeemed || day.expired || day.purchases || day.accrued || day.pendingDelta) await atCommit(tx, 'analytics.point_days_by', day, writePointDaysBy);
  if (purchase && fact.amount != null && fact.currency != null) {
    await atCommit(tx, 'analytics.purchase_days_by', { programId: fact.program_id, day: fact.day, ...at, channel, currency: fact.currency, sign, amount: fact.amount }, writePurchaseDaysBy);
  }
}

/** One upsert per transaction, summed per key and in key order in every writer (no deadlock). */
async function writePointDaysBy(tx: EntityManager, days: PointDayBy[]): Promise<void> {
  const column = <K extends keyof PointDayBy>(key: K) => days.map((d) => d[key]);
  await tx.query(
    `INSERT INTO point_days_by (program_id, day, tier_id, partner_id, channel, issued, redeemed, expired, purchases, accrued, pending_delta)
     SELECT program_id, day, tier_id, partner_id, channel, sum(issued), sum(redeemed), sum(expired), sum(purchases), sum(accrued), sum(pending_delta)
       FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::int[], $10::bigint[], $11::bigint[])
            AS f(program_id, day, tier_id, partner_id, channel, issued, redeemed, expired, purchases, accrued, pending_delta)
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
     ON CONFLICT ON CONSTRAINT point_days_by_key DO UPDATE SET
       issued = point_days_by.issued + excluded.issued, redeemed = point_days_by.redeemed + excluded.redeemed, expired = point_days_by.expired + excluded.expired,
       purchases = point_days_by.purchases + excluded.purchases, accrued = point_days_by.accrued + excluded.accrued, pending_delta = point_days_by.pending_delta + excluded.pending_delta`,
    [
      column('programId'),
      column('day'),
      column('tierId'),
      column('partnerId'),
      column('channel'),
      column('issued'),
      column('redeemed'),
      column('expired'),
      column('purchases'),
      column('accrued'),
      column('pendingDelta'),
    ],
  );
}

async function writePurchaseDaysBy(tx: EntityManager, baskets: PurchaseDayBy[]): Promise<void> {
  const column = <K extends keyof PurchaseDayBy>(key: K) => baskets.map((b) => b[key]);
  await tx.query(
    `INSERT INTO purchase_days_by (program_id, day, tier_id, partner_id, channel, currency, purchases, spend)
     SELECT program_id, day, tier_id, partner_id, channel, currency, sum(sign), sum(sign * amount)
       FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::int[], $8::numeric[])
            AS f(program_id, day, tier_id, partner_id, channel, currency, sign, amount)
      GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
     ON CONFLICT ON CONSTRAINT purchase_days_by_key DO UPDATE SET
       purchases = purchase_days_by.purchases + excluded.purchases, spend = purchase_days_by.spend + excluded.spend`,
    [column('programId'), column('day'), column('tierId'), column('partnerId'), column('channel'), column('currency'), column('sign'), column('amount')],
  );
}

interface MovedMember {
  program_id: string;
  day: string;
  kind: string;
  referred: boolean;
  old_at: Date | null;
  old_tier_id: string | null;
  old_partner_id: string | null;
  tier_id: string | null;
  partner_id: string | null;
}

/** Counts (or moves) the enrolments and qualified referrals matching `where` (on alias m) under their dimensions. */
export async function settleMemberFacts(tx: EntityManager, where: string, params: unknown[]): Promise<void> {
  const moved = (await tx.query(
    `WITH r AS (${MEMBER_DIMENSIONS(where)})
     UPDATE member_facts m SET kpi_tier_id = r.tier_id, kpi_partner_id = r.partner_id, kpi_at = r.at
       FROM r WHERE m.event_id = r.event_id
        AND (r.old_at IS NULL OR (r.old_tier_id, r.old_partner_id, r.old_at) IS DISTINCT FROM (r.tier_id, r.partner_id, r.at))
     RETURNING m.program_id, m.day::text AS day, m.kind, m.referral_id IS NOT NULL AS referred,
               r.old_at, r.old_tier_id, r.old_partner_id, r.tier_id, r.partner_id`,
    params,
  )) as [MovedMember[], number] | MovedMember[];
  for (const row of rows(moved)) {
    const add = async (at: Dimensions, sign: number) => {
      const enrolled = row.kind === 'ENROLLED';
      const day: MemberDayBy = {
        programId: row.program_id,
        day: row.day,
        ...at,
        enrolled: enrolled ? sign : 0,
        referred: enrolled && row.referred ? sign : 0,
        qualified: row.kind === 'REFERRAL_QUALIFIED' ? sign : 0,
      };
      await atCommit(tx, 'analytics.member_days_by', day, writeMemberDaysBy);
    };
    if (row.old_at !== null) await add({ tierId: row.old_tier_id, partnerId: row.old_partner_id }, -1);
    await add({ tierId: row.tier_id, partnerId: row.partner_id }, 1);
  }
}

async function writeMemberDaysBy(tx: EntityManager, days: MemberDayBy[]): Promise<void> {
  const column = <K extends keyof MemberDayBy>(key: K) => days.map((d) => d[key]);
  await tx.query(
    `INSERT INTO member_days_by (program_id, day, tier_id, partner_id, enrolled, referred, qualified)
     SELECT program_id, day, tier_id, partner_id, sum(enrolled), sum(referred), sum(qualified)
       FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::uuid[], $5::int[], $6::int[], $7::int[]) AS f(program_id, day, tier_id, partner_id, enrolled, referred, qualified)
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
     ON CONFLICT ON CONSTRAINT member_days_by_key DO UPDATE SET
       enrolled = member_days_by.enrolled + excluded.enrolled, referred = member_days_by.referred + excluded.referred, qualified = member_days_by.qualified + excluded.qualified`,
    [column('programId'), column('day'), column('tierId'), column('partnerId'), column('enrolled'), column('referred'), column('qualified')],
  );
}

/**
 * After a fact the dimensions of others depend on: a new point fact is counted, an accrual moves
 * the returns and postings of its purchase that came first, and an ENROLLED or TIER_CHANGED moves
 * the member's facts at or after its instant (tier) and their qualifications (enrolment partner).
 */
export const filteredRollups = {
  pointFact: async (tx: EntityManager, eventId: string, memberId: string, fact: { programId: string; kind: string; purchaseId?: string | null }) => {
    await settlePointFacts(tx, 'f.event_id = $1 AND f.member_id = $2', [eventId, memberId]);
    if (fact.kind === 'ACCRUED' && fact.purchaseId) {
      await settlePointFacts(tx, `f.program_id = $1 AND f.purchase_id = $2 AND f.kind <> 'ACCRUED' AND f.purchase_id IS NOT NULL`, [fact.programId, fact.purchaseId]);
    }
  },
  memberFact: async (tx: EntityManager, eventId: string, fact: { programId: string; memberId: string; kind: string; occurredAt: string }) => {
    if (fact.kind === 'ENROLLED' || fact.kind === 'TIER_CHANGED') {
      await settlePointFacts(tx, 'f.program_id = $1 AND f.member_id = $2 AND (f.kpi_at IS NULL OR f.kpi_at >= $3::timestamptz)', [fact.programId, fact.memberId, fact.occurredAt]);
      await settleMemberFacts(tx, 'm.program_id = $1 AND m.member_id = $2', [fact.programId, fact.memberId]);
    } else if (fact.kind === 'REFERRAL_QUALIFIED') {
      await settleMemberFacts(tx, 'm.event_id = $1', [eventId]);
    }
  },
};
