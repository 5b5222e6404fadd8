/**
 * The dimensions a fact is counted under by a filtered KPI (kpi-filter.ts, the scan's definitions),
 * resolved once when the fact arrives and kept on its row (`kpi_*` columns), so the rollups per
 * dimension (filtered-rollups.ts) know where it was counted when a later fact moves it:
 * - a point fact: tier = the member's tier at its instant, or at its purchase's instant for a
 *   return or a posting (`kpi_at`); partner = its own, or a posting's purchase's; channel = a
 *   purchase's own, or a return's or posting's purchase's; none for facts without a purchase;
 * - a member fact (ENROLLED, REFERRAL_QUALIFIED): tier at its instant; partner = the enrolment's,
 *   or for a qualification the member's enrolment partner (member_state).
 * Each query selects the facts matching `where` (on alias f or m) with their kept dimensions
 * (`old_*`, `old_at` NULL when never counted) and the resolved ones.
 */

/** The member's tier at `at` (their latest ENROLLED or TIER_CHANGED at or before it; a change wins over an enrolment at the same instant). */
const tierAt = (alias: string, at: string) =>
  `LEFT JOIN LATERAL (SELECT t.to_tier_id FROM member_facts t
                       WHERE t.program_id = ${alias}.program_id AND t.member_id = ${alias}.member_id AND t.kind IN ('ENROLLED', 'TIER_CHANGED') AND t.occurred_at <= ${at}
                       ORDER BY t.occurred_at DESC, (t.kind = 'TIER_CHANGED') DESC LIMIT 1) tier ON true`;

export const POINT_DIMENSIONS = (where: string) => `
  SELECT f.event_id, f.member_id,
         f.kpi_tier_id AS old_tier_id, f.kpi_partner_id AS old_partner_id, f.kpi_channel AS old_channel, f.kpi_at AS old_at,
         tier.to_tier_id AS tier_id,
         coalesce(f.partner_id, CASE WHEN f.kind = 'POSTED' THEN a.partner_id END) AS partner_id,
         CASE WHEN f.kind = 'ACCRUED' THEN f.channel ELSE a.channel END AS channel,
         coalesce(a.occurred_at, f.occurred_at) AS at
    FROM point_facts f
    LEFT JOIN LATERAL (SELECT p.occurred_at, p.partner_id, p.channel FROM point_facts p
                        WHERE f.kind <> 'ACCRUED' AND f.purchase_id IS NOT NULL AND p.program_id = f.program_id AND p.kind = 'ACCRUED' AND p.purchase_id = f.purchase_id
                        LIMIT 1) a ON true
    ${tierAt('f', 'coalesce(a.occurred_at, f.occurred_at)')}
   WHERE ${where}`;

export const MEMBER_DIMENSIONS = (where: string) => `
  SELECT m.event_id,
         m.kpi_tier_id AS old_tier_id, m.kpi_partner_id AS old_partner_id, m.kpi_at AS old_at,
         tier.to_tier_id AS tier_id,
         CASE WHEN m.kind = 'ENROLLED' THEN m.partner_id ELSE ms.enrolled_through_partner_id END AS partner_id,
         m.occurred_at AS at
    FROM member_facts m
    LEFT JOIN member_state ms ON m.kind <> 'ENROLLED' AND ms.program_id = m.program_id AND ms.member_id = m.member_id
    ${tierAt('m', 'm.occurred_at')}
   WHERE m.kind IN ('ENROLLED', 'REFERRAL_QUALIFIED') AND ${where}`;

/**
 * Resolves and keeps the dimensions of every point fact at once (the migration's backfill), set-based: the same
 * definitions, but the tier at each fact's instant comes from one sort of the members' tier
 * changes and facts together (an as-of join: the last ENROLLED/TIER_CHANGED at or before the
 * instant; at the same instant a change after an enrolment, both before the fact) and the purchase
 * of a return or posting from a hash join, instead of two index look-ups per fact: those took over
 * 20 minutes on 10,000,000 facts. `test/filtered-rollups.test.ts` checks it keeps exactly what the
 * consumer kept.
 */
export const BACKFILL_POINT_DIMENSIONS = `
  WITH purchase AS (
    SELECT DISTINCT ON (program_id, purchase_id) program_id, purchase_id, occurred_at, partner_id, channel
      FROM point_facts WHERE kind = 'ACCRUED' AND purchase_id IS NOT NULL ORDER BY program_id, purchase_id, occurred_at),
  resolved AS (
    SELECT f.event_id, f.member_id, f.program_id,
           coalesce(f.partner_id, CASE WHEN f.kind = 'POSTED' THEN a.partner_id END) AS partner_id,
           CASE WHEN f.kind = 'ACCRUED' THEN f.channel ELSE a.channel END AS channel,
           coalesce(a.occurred_at, f.occurred_at) AS at
      FROM point_facts f
      LEFT JOIN purchase a ON f.kind <> 'ACCRUED' AND f.purchase_id IS NOT NULL AND a.program_id = f.program_id AND a.purchase_id = f.purchase_id),
  timeline AS (
    SELECT program_id, member_id, occurred_at AS at, 0 AS is_fact, kind = 'TIER_CHANGED' AS change, to_tier_id, NULL::uuid AS event_id, NULL::uuid AS partner_id, NULL::text AS channel
      FROM member_facts WHERE kind IN ('ENROLLED', 'TIER_CHANGED')
    UNION ALL
    SELECT program_id, member_id, at, 1, false, NULL, event_id, partner_id, channel FROM resolved),
  grouped AS (
    SELECT *, count(*) FILTER (WHERE is_fact = 0) OVER (PARTITION BY program_id, member_id ORDER BY at, is_fact, change ROWS UNBOUNDED PRECEDING) AS since
      FROM timeline),
  tiered AS (
    SELECT event_id, member_id, partner_id, channel, at,
           first_value(to_tier_id) OVER (PARTITION BY program_id, member_id, since ORDER BY at, is_fact, change) AS tier_id, is_fact
      FROM grouped)
  UPDATE point_facts f SET kpi_tier_id = t.tier_id, kpi_partner_id = t.partner_id, kpi_channel = t.channel, kpi_at = t.at
    FROM tiered t WHERE t.is_fact = 1 AND f.event_id = t.event_id AND f.member_id = t.member_id`;

/** Sets the kept dimensions of the enrolments and qualifications matching `where` (the migration's backfill). */
export const SET_MEMBER_DIMENSIONS = (where: string) => `
  WITH r AS (${MEMBER_DIMENSIONS(where)})
  UPDATE member_facts m SET kpi_tier_id = r.tier_id, kpi_partner_id = r.partner_id, kpi_at = r.at
    FROM r WHERE m.event_id = r.event_id`;

/** The rollups per dimension summed from the facts' kept dimensions (definitions as Kpis' scan). */
export const POINT_DAYS_BY_FROM_FACTS = (where: string) => `
  INSERT INTO point_days_by (program_id, day, tier_id, partner_id, channel, issued, redeemed, expired, purchases, accrued, pending_delta)
  SELECT program_id, day, kpi_tier_id, kpi_partner_id, kpi_channel, sum(issuance_points),
         coalesce(sum(points) FILTER (WHERE kind = 'REDEEMED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REFUNDED'), 0),
         coalesce(sum(points) FILTER (WHERE kind = 'EXPIRED'), 0) - coalesce(sum(points) FILTER (WHERE kind = 'REINSTATED'), 0),
         count(*) FILTER (WHERE kind = 'ACCRUED'), coalesce(sum(points) FILTER (WHERE kind = 'ACCRUED'), 0), sum(pending_delta)
    FROM point_facts WHERE ${where} GROUP BY 1, 2, 3, 4, 5`;

export const PURCHASE_DAYS_BY_FROM_FACTS = (where: string) => `
  INSERT INTO purchase_days_by (program_id, day, tier_id, partner_id, channel, currency, purchases, spend)
  SELECT program_id, day, kpi_tier_id, kpi_partner_id, kpi_channel, currency, count(*), sum(amount)
    FROM point_facts WHERE kind = 'ACCRUED' AND amount IS NOT NULL AND currency IS NOT NULL AND ${where} GROUP BY 1, 2, 3, 4, 5, 6`;

export const MEMBER_DAYS_BY_FROM_FACTS = (where: string) => `
  INSERT INTO member_days_by (program_id, day, tier_id, partner_id, enrolled, referred, qualified)
  SELECT program_id, day, kpi_tier_id, kpi_partner_id, count(*) FILTER (WHERE kind = 'ENROLLED'),
         count(*) FILTER (WHERE kind = 'ENROLLED' AND referral_id IS NOT NULL), count(*) FILTER (WHERE kind = 'REFERRAL_QUALIFIED')
    FROM member_facts WHERE kind IN ('ENROLLED', 'REFERRAL_QUALIFIED') AND ${where} GROUP BY 1, 2, 3, 4`;
