import { z } from 'zod';
import { defineContract, defineEvent } from '../events/contract';

const id = z.uuid();
const points = z.number().int();
/** Every ledger event names the journal entry it announces; the ledger's audit checks each entry was announced. */
const entryId = id.describe('the journal entry');

/** An event about one member's points (the aggregate is that member). */
function memberEvent<TShape extends z.ZodRawShape>(emittedWhen: string, shape: TShape) {
  return defineEvent({
    version: 1,
    emittedWhen,
    aggregateType: 'Member',
    // Every member event's payload starts with memberId (the generic shape hides it from the compiler).
    aggregateId: (p) => (p as { memberId: string }).memberId,
    payload: z.object({ programId: id, memberId: id, ...shape, entryId }),
  });
}

/** What the ledger tells others: every movement of a member's points, with its journal entry. */
export const ledgerEvents = defineContract(
  'ledger',
  {
    PointsAccrued: memberEvent('a purchase earned points (`recordPurchase`)', {
      purchaseId: id,
      points,
      statusPoints: points,
      pending: z.boolean().describe('still in the return window'),
      occurredAt: z.iso.datetime({ offset: true }),
      partnerId: id
        .nullable()
        .optional()
        .describe('the partner that funds the points (its PARTNER_FUNDING account); null when the program funds them; absent on events written before it was carried'),
      source: z.string().optional().describe("the purchase's source (`partner:<id>` for a partner's own); absent on events written before it was carried"),
      externalId: z.string().optional().describe("the purchase's id in its source (a partner's transaction id); absent on events written before it was carried"),
      amount: z
        .string()
        .optional()
        .describe("the basket's total paid (after line discounts), a decimal string at the currency's decimals; absent on events written before it was carried"),
      currency: z.string().length(3).optional().describe("the basket's ISO 4217 currency; absent on events written before it was carried"),
      channel: z.string().optional().describe("the basket's channel (PurchaseChannel: STORE, ONLINE, …); absent on events written before it was carried"),
    }),
    PointsPosted: memberEvent("a purchase's return window closed and its pending points posted", { purchaseId: id, points, statusPoints: points }),
    PointsReturned: memberEvent('goods were returned (`recordReturn`)', {
      purchaseId: id,
      points,
      statusPoints: points,
      fromPending: points,
      fromPosted: points,
      writtenOff: points,
      statusFromPending: points,
      statusFromPosted: points,
      clawbackPolicy: z.enum(['NEGATIVE_BALANCE', 'WRITE_OFF']),
      partnerId: id
        .nullable()
        .optional()
        .describe('the partner that funded the returned purchase (its PARTNER_FUNDING account takes the points back); null when the program funded it; absent on events written before it was carried'),
    }),
    PointsHeld: memberEvent('points were reserved (`holdPoints`)', { holdId: id, points }),
    PointsRedeemed: memberEvent('a hold was captured (points spent)', { holdId: id, points, status: z.literal('CAPTURED') }),
    HoldReleased: memberEvent('a hold was released or expired', { holdId: id, points, status: z.enum(['RELEASED', 'EXPIRED']) }),
    PointsRefunded: memberEvent(
      'captured points were given back (`refundCapturedPoints`, e.g. a cancelled reward order); points that came back into lots past their date follow as `PointsExpired`',
      { holdId: id, points, reason: z.string() },
    ),
    PointsAdjusted: memberEvent('an agent corrected a balance', { points: points.describe('±'), reasonCode: z.string() }),
    PointsExpired: memberEvent('the expiry job moved points to breakage', { points }),
    PointsReinstated: memberEvent('an agent reinstated an expiry', { points, expiryEntryId: id }),
    PointsTransferred: defineEvent({
      version: 1,
      emittedWhen: 'a member sent points to another (aggregate: the sender)',
      aggregateType: 'Member',
      aggregateId: (p) => p.fromMemberId,
      payload: z.object({ programId: id, fromMemberId: id, toMemberId: id, points, entryId }),
    }),
    PointsDonated: memberEvent('a member gave points to a charity', { charityId: id, points }),
    ReferralBonusCredited: memberEvent("a referral's bonus was credited (aggregate: the credited member)", {
      referralId: id,
      role: z.enum(['REFERRER', 'REFEREE']),
      points,
    }),
  },
  'Status points (what tiers follow) change only with `PointsAccrued` and `PointsReturned` (`PointsPosted` moves them from pending to posted; tiers count them from the accrual).',
);

export type LedgerEvents = typeof ledgerEvents;
