import { z } from 'zod';
import { defineContract, defineEvent } from '../events/contract';

const id = z.uuid();
const instant = z.iso.datetime({ offset: true });
const points = z.number().int();
const money = z.object({ amount: z.string().describe('a decimal string at the currency’s decimals'), currency: z.string().length(3) });

export const REWARD_ORDER_STATUSES = ['PLACED', 'CONFIRMED', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'RETURNED'] as const;
export type RewardOrderStatus = (typeof REWARD_ORDER_STATUSES)[number];
const orderStatus = z.enum(REWARD_ORDER_STATUSES);
const rewardType = z.enum(['PHYSICAL', 'E_VOUCHER', 'EXPERIENCE', 'PARTNER_SERVICE', 'CHARITY']);

/**
 * An event about one reward order. The aggregate is the member (as for every producer), so a
 * consumer sees a member's orders, and each order's changes, in the order they happened.
 */
function orderEvent<TShape extends z.ZodRawShape>(emittedWhen: string, shape: TShape) {
  return defineEvent({
    version: 1,
    emittedWhen,
    aggregateType: 'Member',
    aggregateId: (p) => (p as { memberId: string }).memberId,
    payload: z.object({ programId: id, orderId: id, memberId: id, ...shape }),
  });
}

/** What the catalog tells others: reward orders as they move, what was redeemed for what value, complaints. */
export const catalogEvents = defineContract('catalog', {
  RewardOrderPlaced: orderEvent('a member (or an agent for them) placed a reward order; stock is reserved, points not yet taken', {
    points: points.describe('the order’s total price in points'),
    cash: money.nullable().describe('the order’s cash part; null when points only'),
    lines: z.array(z.object({ lineId: id, rewardId: id, quantity: z.number().int(), points })),
    placedAt: instant,
  }),
  RewardOrderStateChanged: orderEvent('an order moved to another state (confirmed, packed, shipped, delivered, cancelled, returned)', {
    fromStatus: orderStatus,
    toStatus: orderStatus,
    changedBy: z.string(),
    reason: z.string().nullable(),
    changedAt: instant,
  }),
  RewardOrderCancelled: orderEvent('units of an order were cancelled or returned and their points (and cash part) refunded', {
    lines: z.array(z.object({ lineId: id, rewardId: id, quantity: z.number().int() })),
    pointsRefunded: points,
    cashRefunded: money.nullable().describe('what the payment provider should refund; null when none'),
    paymentReference: z.string().nullable(),
    returned: z.boolean().describe('true for goods sent back, false for a cancellation'),
    reason: z.string().nullable(),
    at: instant,
  }),
  RewardRedeemed: orderEvent('an order line was confirmed: its points were taken and the units sold (for analytics and settlement)', {
    lineId: id,
    rewardId: id,
    rewardType,
    quantity: z.number().int(),
    points: points.describe('points taken for the line'),
    cash: money.nullable().describe('cash paid for the line; null when none'),
    partnerId: z.string().nullable().describe('the partner providing a PARTNER_SERVICE reward; null otherwise'),
    holdId: id
      .nullable()
      .optional()
      .describe("the ledger hold whose capture took the points (the ledger's journal entry of the redemption); null for an order without points; absent on events written before it was carried"),
    unitCost: money
      .nullable()
      .optional()
      .describe("the reward's fulfilment cost per unit when the line was redeemed (what the program pays for one unit); null when the reward has none; absent on events written before it was carried"),
    redeemedAt: instant,
  }),
  ComplaintOpened: defineEvent({
    version: 1,
    emittedWhen: 'a member or an agent opened a complaint about an order',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({ programId: id, complaintId: id, orderId: id, memberId: id, lineId: id.nullable(), reason: z.string(), dueAt: instant, openedAt: instant }),
  }),
  ComplaintResolved: defineEvent({
    version: 1,
    emittedWhen: 'an agent resolved or rejected a complaint',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      complaintId: id,
      orderId: id,
      memberId: id,
      resolution: z.enum(['REPLACEMENT', 'POINTS_REFUND', 'REJECTION']),
      pointsRefunded: points,
      replacementOrderId: id.nullable(),
      resolvedAt: instant,
    }),
  }),
});
