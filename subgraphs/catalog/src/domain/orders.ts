import { DomainError, InputError } from '@loyalty-graph/shared';
import type { RewardOrderStatus } from '@loyalty-graph/shared/contracts';
import { checkInt, checkUuid, LIMITS } from './limits';

export type { RewardOrderStatus };

/**
 * Where each state may go. Forward only: a shipped parcel is never "packed" again; the only ways
 * back are cancellation (before it leaves) and return (after it arrived).
 */
export const ORDER_TRANSITIONS: Readonly<Record<RewardOrderStatus, readonly RewardOrderStatus[]>> = {
  PLACED: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['PACKED', 'DELIVERED', 'CANCELLED'],
  PACKED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED', 'RETURNED'],
  DELIVERED: ['RETURNED'],
  CANCELLED: [],
  RETURNED: [],
};

export function canMove(from: RewardOrderStatus, to: RewardOrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export function checkMove(from: RewardOrderStatus, to: RewardOrderStatus): void {
  if (!canMove(from, to)) throw new DomainError('INVALID_ORDER_TRANSITION', `An order that is ${from} cannot become ${to}`, 'status');
}

/** Units of an order that can still be cancelled (before they leave) or returned (after they arrived). */
export function cancellableIn(status: RewardOrderStatus): 'CANCEL' | 'RETURN' | null {
  if (status === 'CONFIRMED' || status === 'PACKED') return 'CANCEL';
  if (status === 'SHIPPED' || status === 'DELIVERED') return 'RETURN';
  return null;
}

export interface OrderLineInput {
  rewardId: string;
  quantity: number;
}

/** Lines as ordered (1-based line numbers), checked. */
export function checkLines(lines: readonly OrderLineInput[]): OrderLineInput[] {
  if (lines.length < 1 || lines.length > LIMITS.orderLines) throw new InputError(`lines must hold 1 to ${LIMITS.orderLines} lines`, 'lines');
  return lines.map((line, i) => ({ rewardId: checkUuid(line.rewardId, `lines.${i}.rewardId`), quantity: checkInt(line.quantity, `lines.${i}.quantity`, 1, LIMITS.orderQuantity) }));
}

/**
 * Demand per reward, added up across the order's lines: two lines of the same reward must
 * reserve their sum, never each check the same free stock.
 */
export function demandByReward(lines: readonly OrderLineInput[]): Map<string, number> {
  const demand = new Map<string, number>();
  for (const line of lines) demand.set(line.rewardId, (demand.get(line.rewardId) ?? 0) + line.quantity);
  return demand;
}

/**
 * Points to give back for cancelling `units` of a line. Whole units at the line's price; the
 * order's total refunded never exceeds what was taken (the caller checks against points_refunded).
 */
export function pointsForUnits(pointsEach: number, units: number): number {
  return pointsEach * units;
}

/**
 * The cash part to refund for `units` of a line, proportional to the line's cash price (each
 * unit carries its own cash amount), in the currency's minor units as a decimal string.
 */
export function cashForUnits(cashEach: string | null, units: number, scale: number): string | null {
  if (cashEach === null) return null;
  const [whole, fraction = ''] = cashEach.split('.');
  const minor = BigInt(whole! + fraction.padEnd(4, '0').slice(0, 4)) * BigInt(units);
  // Stored at 4 decimals; the currency has `scale` (amounts are entered at most at its decimals, so this is exact).
  const total = minor / 10n ** BigInt(4 - scale);
  const text = total.toString().padStart(scale + 1, '0');
  return scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

/** Counted units in a rolling window: at most `count` per member in `days` days. */
export function checkMemberLimit(limit: { count: number; days: number } | null, alreadyOrdered: number, wanted: number): void {
  if (!limit) return;
  if (alreadyOrdered + wanted > limit.count) {
    throw new DomainError(
      'LIMIT_REACHED',
      `A member may order this reward ${limit.count} time${limit.count === 1 ? '' : 's'} in ${limit.days} days; ${alreadyOrdered} already ordered`,
      'lines',
    );
  }
}
