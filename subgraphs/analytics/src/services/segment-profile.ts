import type { DataSource } from 'typeorm';
import { share } from '../domain/segments';

/** SegmentProfile's figures; definitions in schema.graphql (SegmentProfile). */
export interface SegmentProfileRow {
  size: number;
  tiers: { tierId: string | null; members: number }[];
  averageSpend: string | null;
  medianSpend: string | null;
  averagePurchases: string | null;
  medianPurchases: string | null;
  averagePointsBalance: string | null;
  activeMembers: number;
  activeShare: string | null;
  redeemingMembers: number;
  redemptionShare: string | null;
  reachable: { email: number; sms: number; push: number; post: number };
  /** When the figures were computed (they are served again for up to PROFILE_MAX_AGE_MS). */
  computedAt: Date;
}

/**
 * How long a computed profile is served again. A profile reads every member's state in the segment
 * (about 0.5 s for 100,000 members of a 1,000,000-member program on the benchmark machine); a
 * dashboard listing a program's segments with their profiles would otherwise do that per segment on
 * every load. Membership itself (Member.segments, SegmentMembershipChanged) stays current.
 */
export const PROFILE_MAX_AGE_MS = 60_000;

/** How recent a purchase makes a member active in a profile. */
const ACTIVE_DAYS = 90;

/**
 * One aggregate over the segment's rows joined to member_state. PostgreSQL's numeric round is half
 * away from zero (half up for these non-negative figures); medians are percentile_cont(0.5) (the
 * mean of the two middle values), taken as numeric before rounding.
 */
export async function segmentProfile(db: DataSource, segmentId: string, now: Date): Promise<SegmentProfileRow> {
  // The last profile, if computed under the segment's current rules less than a minute ago and not
  // during a whole-program evaluation (membership is then partial).
  const [kept] = (await db.query(
    `SELECT p.profile, p.computed_at AS "computedAt", g.updated_at AS "segmentUpdatedAt", g.evaluation_cursor IS NOT NULL AS evaluating
       FROM segments g LEFT JOIN segment_profiles p ON p.segment_id = g.id AND p.segment_updated_at = g.updated_at AND p.computed_at > $2::timestamptz - make_interval(secs => $3)
      WHERE g.id = $1`,
    [segmentId, now, PROFILE_MAX_AGE_MS / 1000],
  )) as { profile: Omit<SegmentProfileRow, 'computedAt'> | null; computedAt: Date | null; segmentUpdatedAt: Date; evaluating: boolean }[];
  if (kept?.profile && !kept.evaluating) return { ...kept.profile, computedAt: new Date(kept.computedAt!) };
  const profile = await computeProfile(db, segmentId, now);
  if (kept && !kept.evaluating) {
    // Two requests computing at once: the later computation stays.
    await db.query(
      `INSERT INTO segment_profiles (segment_id, profile, segment_updated_at, computed_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (segment_id) DO UPDATE SET profile = excluded.profile, segment_updated_at = excluded.segment_updated_at, computed_at = excluded.computed_at
        WHERE segment_profiles.computed_at < excluded.computed_at`,
      [segmentId, JSON.stringify(profile), kept.segmentUpdatedAt, now],
    );
  }
  return { ...profile, computedAt: now };
}

async function computeProfile(db: DataSource, segmentId: string, now: Date): Promise<Omit<SegmentProfileRow, 'computedAt'>> {
  const [row] = (await db.query(
    `SELECT count(*)::int AS size,
            round(avg(s.spend), 2)::text AS "averageSpend",
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY s.spend))::numeric, 2)::text AS "medianSpend",
            round(avg(s.purchases), 2)::text AS "averagePurchases",
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY s.purchases))::numeric, 2)::text AS "medianPurchases",
            round(avg(s.points_balance), 2)::text AS "averagePointsBalance",
            count(*) FILTER (WHERE s.last_purchase_at >= $2::timestamptz - make_interval(days => $3))::int AS "activeMembers",
            count(*) FILTER (WHERE s.points_redeemed > 0)::int AS "redeemingMembers",
            count(*) FILTER (WHERE 'EMAIL:MARKETING' = ANY(s.consents))::int AS email,
            count(*) FILTER (WHERE 'SMS:MARKETING' = ANY(s.consents))::int AS sms,
            count(*) FILTER (WHERE 'PUSH:MARKETING' = ANY(s.consents))::int AS push,
            count(*) FILTER (WHERE 'POST:MARKETING' = ANY(s.consents))::int AS post
       FROM segment_members m JOIN member_state s ON s.program_id = m.program_id AND s.member_id = m.member_id
      WHERE m.segment_id = $1`,
    [segmentId, now, ACTIVE_DAYS],
  )) as (Omit<SegmentProfileRow, 'tiers' | 'reachable' | 'activeShare' | 'redemptionShare'> & { email: number; sms: number; push: number; post: number })[];
  const tiers = (await db.query(
    `SELECT s.tier_id AS "tierId", count(*)::int AS members
       FROM segment_members m JOIN member_state s ON s.program_id = m.program_id AND s.member_id = m.member_id
      WHERE m.segment_id = $1 GROUP BY s.tier_id ORDER BY members DESC, s.tier_id NULLS LAST`,
    [segmentId],
  )) as { tierId: string | null; members: number }[];
  const r = row!;
  return {
    size: r.size,
    tiers,
    averageSpend: r.averageSpend,
    medianSpend: r.medianSpend,
    averagePurchases: r.averagePurchases,
    medianPurchases: r.medianPurchases,
    averagePointsBalance: r.averagePointsBalance,
    activeMembers: r.activeMembers,
    activeShare: share(r.activeMembers, r.size),
    redeemingMembers: r.redeemingMembers,
    redemptionShare: share(r.redeemingMembers, r.size),
    reachable: { email: r.email, sms: r.sms, push: r.push, post: r.post },
  };
}
