import type { EntityManager } from 'typeorm';

/**
 * Units of each reward the member ordered within that reward's limit window: every order not
 * undone, less cancelled units (a cancellation frees the allowance; a return does not), and not
 * counting replacements sent for complaints. One rule for ordering and for eligibility.
 */
export async function unitsOrderedInWindow(tx: EntityManager, memberId: string, rewardIds: readonly string[], now: Date): Promise<Map<string, number>> {
  const rows = (await tx.query(
    `SELECT l.reward_id AS "rewardId", sum(l.quantity - l.cancelled)::int AS units
     FROM reward_order_lines l JOIN reward_orders o ON o.id = l.order_id JOIN rewards r ON r.id = l.reward_id
     WHERE o.member_id = $1 AND l.reward_id = ANY($2::uuid[]) AND r.limit_days IS NOT NULL AND o.saga_step <> 'UNDONE'
       AND o.replaces_complaint_id IS NULL AND o.created_at > $3::timestamptz - make_interval(days => r.limit_days)
     GROUP BY l.reward_id`,
    [memberId, rewardIds, now],
  )) as { rewardId: string; units: number }[];
  return new Map(rows.map((r) => [r.rewardId, r.units]));
}
