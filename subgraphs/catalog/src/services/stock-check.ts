import type { DataSource } from 'typeorm';
import { rewardColumns, type RewardRow } from '../entities';

export interface StockDiscrepancyValue {
  reward: RewardRow;
  problem: string;
}

/**
 * The stock invariant, checked from the ground truth: received = available + reserved + sold with
 * nothing negative; reserved equal to the units of open reservations; sold equal to the units of
 * confirmed orders not cancelled. Tests run it after every race; operators run it through
 * `rewardStockCheck`.
 */
export async function stockDiscrepancies(db: DataSource, programId: string | null): Promise<StockDiscrepancyValue[]> {
  const rows = (await db.query(
    `SELECT ${rewardColumns},
       (SELECT coalesce(sum(s.units), 0)::int FROM stock_reservations s WHERE s.reward_id = r.id AND s.status = 'OPEN') AS "openUnits",
       (SELECT coalesce(sum(l.quantity - l.cancelled), 0)::int FROM reward_order_lines l JOIN reward_orders o ON o.id = l.order_id
         WHERE l.reward_id = r.id AND o.saga_step = 'DONE') AS "soldUnits"
     FROM rewards r WHERE r.stock_received IS NOT NULL AND ($1::uuid IS NULL OR r.program_id = $1) ORDER BY r.created_at, r.id`,
    [programId],
  )) as (RewardRow & { openUnits: number; soldUnits: number })[];
  const found: StockDiscrepancyValue[] = [];
  for (const { openUnits, soldUnits, ...reward } of rows) {
    const received = reward.stockReceived!;
    const available = received - reward.stockReserved - reward.stockSold;
    const problems = [
      available < 0 && `available is ${available}`,
      reward.stockReserved < 0 && `reserved is ${reward.stockReserved}`,
      reward.stockSold < 0 && `sold is ${reward.stockSold}`,
      reward.stockReserved !== openUnits && `reserved ${reward.stockReserved} but open reservations hold ${openUnits}`,
      reward.stockSold !== soldUnits && `sold ${reward.stockSold} but confirmed orders hold ${soldUnits}`,
    ].filter((p): p is string => typeof p === 'string');
    for (const problem of problems) found.push({ reward, problem });
  }
  return found;
}
