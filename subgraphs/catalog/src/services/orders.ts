import { GraphQLError } from 'graphql';
import { conflict, currencyDigits, DomainError, forbidden, formatMoneyAmount, notFound, userError, type Clock, type UserError, type Viewer } from '@loyalty-graph/shared';
import { catalogEvents } from '@loyalty-graph/shared/contracts';
import { requestHash, validateKey, withRetries } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { isPeerUnavailable } from '@loyalty-graph/shared/subgraph';
import type { DataSource, EntityManager } from 'typeorm';
import { rewardColumns, type RewardRow } from '../entities';
import { availableAt, inAudience, type MemberFacts } from '../domain/eligibility';
import { checkLines, checkMemberLimit, demandByReward, type OrderLineInput, type RewardOrderStatus } from '../domain/orders';
import { checkUuid, LIMITS } from '../domain/limits';
import { canOrderFor } from '../domain/policy';
import { checkShippingAddress, type ShippingAddress } from '../domain/shipping';
import { refused, type LedgerClient } from './ledger-client';
import { unitsOrderedInWindow } from './order-limits';

/** The steps a failpoint can stop at (tests kill the process there to prove recovery). */
export type SagaPoint = 'after-reserve' | 'after-donate' | 'after-hold' | 'after-capture' | 'after-release' | 'after-refund';

/** Issues what a confirmed line delivers at once: voucher codes (the voucher pool's claim). */
export interface CodeIssuer {
  claimCodes(tx: EntityManager, input: { programId: string; rewardId: string; memberId: string; orderLineId: string; quantity: number; now: Date }): Promise<unknown[]>;
}

export interface OrderServiceOptions {
  /** How long stock (and points) stay reserved for an order that is not confirmed: its payment, or a crash. */
  reservationMinutes: number;
  /** How long one driver (a request, or recovery) owns an unfinished order before another may take over. */
  leaseSeconds: number;
  /** Test-only: called at each step; a test kills the process there. */
  failpoint?: (point: SagaPoint) => Promise<void> | void;
}

export const DEFAULT_ORDER_OPTIONS: OrderServiceOptions = { reservationMinutes: 15, leaseSeconds: 30 };

interface OrderRow {
  id: string;
  programId: string;
  memberId: string;
  status: RewardOrderStatus;
  sagaStep: 'RESERVED' | 'HELD' | 'PAYING' | 'DONE' | 'UNDONE';
  holdId: string | null;
  points: number;
  cashAmount: string | null;
  cashCurrency: string | null;
  paymentReference: string | null;
  reservationExpiresAt: Date;
  failureCode: string | null;
  failureMessage: string | null;
  requestHash: string;
  donationCharityId: string | null;
}

const ORDER = `o.id, o.program_id AS "programId", o.member_id AS "memberId", o.status, o.saga_step AS "sagaStep", o.hold_id AS "holdId", o.points,
  o.cash_amount::text AS "cashAmount", o.cash_currency AS "cashCurrency", o.payment_reference AS "paymentReference",
  o.reservation_expires_at AS "reservationExpiresAt", o.failure_code AS "failureCode", o.failure_message AS "failureMessage", o.request_hash AS "requestHash",
  o.donation_charity_id AS "donationCharityId"`;

const DIGITAL = new Set(['E_VOUCHER', 'CHARITY', 'PARTNER_SERVICE']);

/** The ledger keys of an order's steps: the same step always carries the same key. */
const keys = {
  hold: (orderId: string) => `order:${orderId}:hold`,
  capture: (orderId: string) => `order:${orderId}:capture`,
  release: (orderId: string) => `order:${orderId}:release`,
  donate: (orderId: string) => `order:${orderId}:donate`,
  refund: (refundId: string) => `refund:${refundId}`,
};

/**
 * Reward orders: the redemption saga (reserve stock → hold points → capture → confirm), its undo,
 * and recovery. One round trip for the caller; every step is recorded in `reward_orders` before
 * the next, and every ledger call carries a key derived from the order, so the request or, after
 * a crash, recovery can replay any step: the ledger answers a replay with its earlier result.
 */
export class OrderService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly members: MemberDirectory,
    private readonly ledger: LedgerClient,
    private readonly codes: CodeIssuer | null,
    private readonly options: OrderServiceOptions = DEFAULT_ORDER_OPTIONS,
  ) {}

  /**
   * Places an order and drives it as far as it can go now: CONFIRMED (or DELIVERED for digital
   * rewards), PLACED while a cash part awaits payment, or CANCELLED with the refusal (not enough
   * points). The same key returns the same order (and, for a refused one, the same refusal).
   */
  async place(
    viewer: Viewer,
    input: { idempotencyKey: string; memberId: string; lines: readonly OrderLineInput[]; shippingAddress?: ShippingAddress | null },
    replacing: { complaintId: string } | null = null,
  ): Promise<{ orderId: string; failure: UserError | null }> {
    validateKey(input.idempotencyKey);
    const memberId = checkUuid(input.memberId, 'memberId');
    const lines = checkLines(input.lines);
    const [member] = await this.members([memberId]);
    if (!member || !canOrderFor(viewer, memberId, member.programId)) {
      // A member asking for someone else learns nothing about whether they exist.
      if (!member && viewer.kind !== 'MEMBER') throw notFound('Member');
      throw forbidden('Members order only for themselves; agents only in their program');
    }
    const address = input.shippingAddress ? checkShippingAddress(input.shippingAddress, 'shippingAddress') : null;
    const hash = requestHash('placeRewardOrder', { memberId, lines, address, replacing });
    const now = this.clock.now();
    const reservationExpiresAt = new Date(now.getTime() + this.options.reservationMinutes * 60_000);
    const placed = await withRetries(() =>
      this.db.transaction(async (tx) => {
        // Prices first (reading only), so the order is written whole in one statement.
        const rewards = await this.rewardsFor(tx, member.programId, lines);
        const free = replacing !== null;
        let points = 0;
        let cash = null as { amount: bigint; currency: string } | null;
        let mixedAt: number | null = null;
        for (const [i, line] of lines.entries()) {
          const reward = rewards.get(line.rewardId)!;
          if (free) continue;
          points += reward.points * line.quantity;
          if (reward.cashAmount === null) continue;
          if (cash && cash.currency !== reward.cashCurrency) mixedAt ??= i;
          else cash = { amount: (cash?.amount ?? 0n) + toMinor4(reward.cashAmount) * BigInt(line.quantity), currency: reward.cashCurrency! };
        }
        // One hold can take at most this many points (the ledger's bound).
        if (points > LIMITS.rewardPoints) throw new DomainError('ORDER_TOO_LARGE', `An order costs at most ${LIMITS.rewardPoints.toLocaleString('en-US')} points`, 'lines');
        const cashAmount = cash ? fromMinor4(cash.amount) : null;
        // A donation is not goods: it is ordered on its own, and goes to the ledger's charity.
        const charity = lines.map((l) => rewards.get(l.rewardId)!).find((r) => r.type === 'CHARITY');
        const [claimed] = (await tx.query(
          `INSERT INTO reward_orders (program_id, member_id, idempotency_key, request_hash, status, saga_step, points, cash_amount, cash_currency, donation_charity_id,
             reservation_expires_at, lease_until, shipping_address, replaces_complaint_id, placed_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, 'PLACED', 'RESERVED', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
           ON CONFLICT (program_id, idempotency_key) DO NOTHING RETURNING id`,
          [
            member.programId,
            memberId,
            input.idempotencyKey,
            hash,
            points,
            cashAmount,
            cash?.currency ?? null,
            charity?.charityId ?? null,
            reservationExpiresAt,
            new Date(now.getTime() + this.options.leaseSeconds * 1000),
            address ? JSON.stringify(address) : null,
            replacing?.complaintId ?? null,
            viewer.subject ?? viewer.kind,
            now,
          ],
        )) as { id: string }[];
        // The key was used before (a retry), or at the same moment: follow that order. Claiming
        // before the checks means a retry finds its order even if the reward was retired since.
        if (!claimed) return null;
        if (member.status !== 'ACTIVE') throw new DomainError('MEMBER_NOT_ACTIVE', `The member is ${member.status.toLowerCase()}`, 'memberId');
        const orderId = claimed.id;
        if (charity) {
          if (lines.length > 1) throw new DomainError('CHARITY_ORDERED_ALONE', 'A donation is ordered on its own, not with other rewards', 'lines');
          if (!charity.charityId) throw new DomainError('CHARITY_NOT_SET', 'This donation has no charity yet', 'lines.0.rewardId');
          if (free) throw new DomainError('NOT_REPLACEABLE', 'A donation cannot be replaced', 'lines');
        }
        if (mixedAt !== null) throw new DomainError('MIXED_CURRENCIES', 'Every cash price in one order must be in the same currency', `lines.${mixedAt}.rewardId`);
        const rows: unknown[][] = [];
        for (const [i, line] of lines.entries()) {
          const reward = rewards.get(line.rewardId)!;
          if (!free) this.checkOrderable(reward, member, now, `lines.${i}.rewardId`);
          if (reward.type === 'PHYSICAL' && !address) throw new DomainError('SHIPPING_ADDRESS_REQUIRED', 'Physical rewards need a shipping address', 'shippingAddress');
          rows.push([i + 1, reward.id, reward.version, reward.type, line.quantity, free ? 0 : reward.points, free ? null : reward.cashAmount, reward.type === 'EXPERIENCE' ? bookingReference(orderId, i + 1) : null]);
        }
        // Every line in one statement.
        const column = (k: number) => rows.map((r) => r[k]);
        const lineRows = (await tx.query(
          `INSERT INTO reward_order_lines (order_id, line_no, reward_id, reward_version, reward_type, quantity, points_each, cash_each, booking_reference)
           SELECT $1, * FROM unnest($2::int[], $3::uuid[], $4::int[], $5::text[], $6::int[], $7::int[], $8::numeric[], $9::text[])
           RETURNING id AS "lineId", reward_id AS "rewardId", quantity, points_each * quantity AS points, line_no AS "lineNo"`,
          [orderId, column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7)],
        )) as { lineId: string; rewardId: string; quantity: number; points: number; lineNo: number }[];
        lineRows.sort((a, b) => a.lineNo - b.lineNo);
        if (!free) await this.checkMemberLimits(tx, memberId, lines, rewards, now);
        await this.reserve(tx, orderId, demandByReward(lines), rewards);
        await this.recordChange(tx, orderId, null, 'PLACED', viewer.subject ?? viewer.kind, replacing ? 'Replacement for a complaint' : null, now);
        await emit(
          tx,
          catalogEvents,
          [
            {
              type: 'RewardOrderPlaced',
              payload: {
                programId: member.programId,
                orderId,
                memberId,
                points,
                cash: cash ? { amount: moneyText(cashAmount!, cash.currency), currency: cash.currency } : null,
                lines: lineRows.map(({ lineNo: _, ...line }) => line),
                placedAt: now.toISOString(),
              },
            },
          ],
          now,
        );
        const row: OrderRow = {
          id: orderId,
          programId: member.programId,
          memberId,
          status: 'PLACED',
          sagaStep: 'RESERVED',
          holdId: null,
          points,
          cashAmount,
          cashCurrency: cash?.currency ?? null,
          paymentReference: null,
          reservationExpiresAt,
          failureCode: null,
          failureMessage: null,
          requestHash: hash,
          donationCharityId: charity?.charityId ?? null,
        };
        return row;
      }),
    );
    if (!placed) return this.resume((await this.byKey(member.programId, input.idempotencyKey))!, hash);
    await this.options.failpoint?.('after-reserve');
    // The order as this transaction wrote it: the saga starts without reading it back.
    return this.drive(placed.id, viewer.subject ?? viewer.kind, {}, placed);
  }

  /** The payment provider confirmed the cash part: take the points and confirm the order. */
  async confirmPayment(viewer: Viewer, input: { orderId: string; providerReference: string; amount: { amount: string; currency: string } }): Promise<{ orderId: string; failure: UserError | null }> {
    const orderId = checkUuid(input.orderId, 'orderId');
    const order = await this.load(this.db.manager, orderId);
    if (!order) throw notFound('Reward order');
    if (!(viewer.kind === 'SERVICE' || (viewer.kind === 'STAFF' && viewer.roles.includes('ADMIN') && (viewer.programId === null || viewer.programId === order.programId)))) {
      throw forbidden('Payments are confirmed by the payment service or the program’s administrators');
    }
    if (order.cashAmount === null) throw new DomainError('NO_CASH_PART', 'The order has no cash part to pay', 'orderId');
    if (input.amount.currency !== order.cashCurrency || toMinor4(input.amount.amount) !== toMinor4(order.cashAmount)) {
      throw new DomainError('PAYMENT_AMOUNT_MISMATCH', `The order's cash part is ${moneyText(order.cashAmount, order.cashCurrency!)} ${order.cashCurrency}`, 'amount');
    }
    const reference = input.providerReference.trim();
    if (reference.length < 1 || reference.length > 128) throw new DomainError('INVALID_REFERENCE', 'providerReference must be 1 to 128 characters', 'providerReference');
    const [, recorded] = (await this.db.query(
      `UPDATE reward_orders SET payment_reference = $2, payment_confirmed_at = $3, updated_at = $3
       WHERE id = $1 AND saga_step = 'PAYING' AND payment_reference IS NULL`,
      [orderId, reference, this.clock.now()],
    )) as [unknown[], number];
    if (recorded === 0) {
      const now = await this.load(this.db.manager, orderId);
      if (now!.paymentReference !== null && now!.paymentReference !== reference) throw conflict('The order was paid with another provider reference');
      if (now!.paymentReference === null) throw new DomainError('ORDER_NOT_AWAITING_PAYMENT', `The order is ${now!.status} and not awaiting payment`, 'orderId');
    }
    return this.drive(orderId, viewer.subject ?? viewer.kind);
  }

  /**
   * Recovery: drives every unfinished order whose driver has gone quiet (a crash, a peer that
   * did not answer), and re-asks the ledger for refunds recorded but not done. Each order is
   * taken with one conditional UPDATE, so replicas running it at once never share an order.
   */
  async recover(limit = 100): Promise<number> {
    const now = this.clock.now();
    const [taken] = (await this.db.query(
      `UPDATE reward_orders SET lease_until = $2
       WHERE id IN (SELECT id FROM reward_orders WHERE saga_step IN ('RESERVED', 'HELD', 'PAYING') AND lease_until <= $1
                    AND (saga_step <> 'PAYING' OR reservation_expires_at <= $1 OR payment_confirmed_at IS NOT NULL)
                    ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [now, new Date(now.getTime() + this.options.leaseSeconds * 1000), limit],
    )) as [{ id: string }[], number];
    let done = 0;
    for (const { id } of taken) {
      try {
        await this.drive(id, 'recovery', { recovering: true });
        done++;
      } catch {
        // The ledger is still away: the lease runs out and a later run tries again.
      }
    }
    const refunds = (await this.db.query(`SELECT id FROM reward_order_refunds WHERE status = 'PENDING' AND created_at <= $1 ORDER BY created_at LIMIT $2`, [
      new Date(now.getTime() - this.options.leaseSeconds * 1000),
      limit,
    ])) as { id: string }[];
    for (const { id } of refunds) {
      try {
        await this.completeRefund(id);
        done++;
      } catch {
        // Tried again on the next run.
      }
    }
    return done;
  }

  /** The same key again: the same order, unless the request differs. An unfinished one is driven on. */
  private async resume(order: OrderRow, hash: string): Promise<{ orderId: string; failure: UserError | null }> {
    if (order.requestHash !== hash) throw conflict('idempotencyKey was already used for a different order');
    if (order.sagaStep === 'DONE' || order.sagaStep === 'UNDONE' || order.sagaStep === 'PAYING') return this.result(order);
    // Another request (or recovery) may be driving it right now: wait for it, then take over if it went quiet.
    const deadline = Date.now() + this.options.leaseSeconds * 1000;
    for (;;) {
      const [, leased] = (await this.db.query(`UPDATE reward_orders SET lease_until = $2 WHERE id = $1 AND lease_until <= $3 AND saga_step IN ('RESERVED', 'HELD')`, [
        order.id,
        new Date(this.clock.now().getTime() + this.options.leaseSeconds * 1000),
        this.clock.now(),
      ])) as [unknown[], number];
      if (leased > 0) return this.drive(order.id, 'retry');
      const now = (await this.load(this.db.manager, order.id))!;
      if (!['RESERVED', 'HELD'].includes(now.sagaStep) || Date.now() > deadline) return this.result(now);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Moves an order forward from wherever it stands. Each step re-reads the order and changes it
   * only from the step it read (a compare-and-set), so a slow driver and recovery never both
   * move it; their ledger calls share keys, so whichever comes second gets the first's result.
   */
  private async drive(orderId: string, by: string, mode: { recovering?: boolean } = {}, known?: OrderRow): Promise<{ orderId: string; failure: UserError | null }> {
    try {
      let first = known;
      for (let guard = 0; guard < 10; guard++) {
        const order = first ?? (await this.load(this.db.manager, orderId))!;
        first = undefined;
        const expired = order.reservationExpiresAt <= this.clock.now();
        switch (order.sagaStep) {
          case 'DONE':
          case 'UNDONE':
            return this.result(order);
          case 'RESERVED': {
            if (order.donationCharityId !== null) {
              // Replaying the donation with its key finds an earlier one instead of giving twice;
              // there is no way to look without giving, so a donation order only ever goes forward.
              const donated = await this.ledger.donate({ idempotencyKey: keys.donate(orderId), memberId: order.memberId, charityId: order.donationCharityId, points: order.points });
              if ('refused' in donated) {
                await this.undo(order, by, donated.refused.code === 'INSUFFICIENT_POINTS' ? 'NOT_ENOUGH_POINTS' : donated.refused.code, donated.refused.message, { noHold: true });
                continue;
              }
              await this.options.failpoint?.('after-donate');
              await this.db.query(`UPDATE reward_orders SET donation_entry_id = $2 WHERE id = $1 AND saga_step = 'RESERVED'`, [orderId, donated.entryId]);
              await this.confirm(orderId, by);
              continue;
            }
            if (expired) {
              await this.undo(order, by, 'RESERVATION_EXPIRED', 'The order was not completed in time');
              continue;
            }
            if (order.points === 0) {
              await this.advanceStep(orderId, 'RESERVED', 'HELD', null);
              continue;
            }
            const held = await this.ledger.hold({ idempotencyKey: keys.hold(orderId), memberId: order.memberId, points: order.points, reference: `reward-order:${orderId}` });
            if (refused(held)) {
              await this.undo(order, by, held.refused.code === 'INSUFFICIENT_POINTS' ? 'NOT_ENOUGH_POINTS' : held.refused.code, held.refused.message, { noHold: true });
              continue;
            }
            await this.options.failpoint?.('after-hold');
            if (order.cashAmount !== null) {
              await this.advanceStep(orderId, 'RESERVED', 'PAYING', held.holdId);
              continue;
            }
            // Points only: on to the capture at once. The hold is recorded with the confirmation,
            // not in a write of its own: after a crash in between, replaying the keyed hold finds it.
            if ((await this.captureAndConfirm({ ...order, holdId: held.holdId }, by)) === 'DONE') return { orderId, failure: null };
            continue;
          }
          case 'HELD': {
            if (order.cashAmount !== null && order.paymentReference === null) {
              await this.advanceStep(orderId, 'HELD', 'PAYING', order.holdId);
              continue;
            }
            await this.captureAndConfirm(order, by);
            continue;
          }
          case 'PAYING': {
            if (order.paymentReference !== null) {
              await this.captureAndConfirm(order, by);
              continue;
            }
            if (expired) {
              await this.undo(order, by, 'PAYMENT_NOT_CONFIRMED', 'The cash part was not paid in time');
              continue;
            }
            return this.result(order);
          }
        }
      }
      throw new Error(`reward order ${orderId} did not settle`);
    } catch (error) {
      if (isPeerUnavailable(error) && !mode.recovering) {
        // Leave it to recovery after a short pause; the caller may retry with the same key.
        await this.db.query(`UPDATE reward_orders SET lease_until = $2 WHERE id = $1 AND saga_step IN ('RESERVED', 'HELD', 'PAYING')`, [orderId, new Date(this.clock.now().getTime() + 5_000)]);
        throw new GraphQLError(
          `The ledger did not answer; reward order ${orderId} is pending and will be completed or cancelled by itself. Send the same request (same idempotencyKey) to see how it ended.`,
          { extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'ledger', retryable: true } },
        );
      }
      throw error;
    }
  }

  private async captureAndConfirm(order: OrderRow, by: string): Promise<'DONE' | 'UNDONE'> {
    if (order.holdId !== null) {
      const captured = await this.ledger.capture(keys.capture(order.id), order.holdId);
      if (refused(captured)) {
        // Released by someone else, or expired: the points were not taken, so neither is the stock.
        const status = await this.ledger.status(order.holdId);
        if (status !== 'CAPTURED') {
          await this.undo(order, by, captured.refused.code === 'HOLD_EXPIRED' ? 'RESERVATION_EXPIRED' : captured.refused.code, captured.refused.message);
          return 'UNDONE';
        }
      }
      await this.options.failpoint?.('after-capture');
    }
    return this.confirm(order.id, by, order.holdId);
  }

  /** The points are taken: sell the reserved stock, issue codes, and confirm (digital rewards are delivered at once). */
  private async confirm(orderId: string, by: string, holdId: string | null = null): Promise<'DONE' | 'UNDONE'> {
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const order = (await this.load(tx, orderId, true))!;
        if (order.sagaStep === 'DONE' || order.sagaStep === 'UNDONE') return order.sagaStep;
        const now = this.clock.now();
        // The reservations become sales and their units move from reserved to sold, in one statement.
        await tx.query(
          `WITH sold AS (UPDATE stock_reservations SET status = 'SOLD' WHERE order_id = $1 AND status = 'OPEN' RETURNING reward_id, units)
           UPDATE rewards r SET stock_reserved = r.stock_reserved - s.units, stock_sold = r.stock_sold + s.units FROM sold s WHERE r.id = s.reward_id`,
          [orderId],
        );
        const lines = (await tx.query(
          `SELECT l.id, l.reward_id AS "rewardId", l.reward_type AS "rewardType", l.quantity, l.points_each AS "pointsEach", l.cash_each::text AS "cashEach", r.partner_id AS "partnerId",
                  r.unit_cost_amount::text AS "unitCostAmount", r.unit_cost_currency AS "unitCostCurrency"
           FROM reward_order_lines l JOIN rewards r ON r.id = l.reward_id WHERE l.order_id = $1 ORDER BY l.line_no`,
          [orderId],
        )) as {
          id: string;
          rewardId: string;
          rewardType: string;
          quantity: number;
          pointsEach: number;
          cashEach: string | null;
          partnerId: string | null;
          unitCostAmount: string | null;
          unitCostCurrency: string | null;
        }[];
        for (const line of lines) {
          if (line.rewardType === 'E_VOUCHER' && this.codes) {
            await this.codes.claimCodes(tx, { programId: order.programId, rewardId: line.rewardId, memberId: order.memberId, orderLineId: line.id, quantity: line.quantity, now });
          }
        }
        const delivered = lines.every((l) => DIGITAL.has(l.rewardType));
        await tx.query(`UPDATE reward_orders SET saga_step = 'DONE', status = $2, updated_at = $3, hold_id = coalesce($4, hold_id) WHERE id = $1`, [
          orderId,
          delivered ? 'DELIVERED' : 'CONFIRMED',
          now,
          holdId,
        ]);
        await this.recordChange(tx, orderId, 'PLACED', 'CONFIRMED', by, null, now);
        if (delivered) await this.recordChange(tx, orderId, 'CONFIRMED', 'DELIVERED', by, 'Delivered at once', now);
        const currency = order.cashCurrency;
        await emit(
          tx,
          catalogEvents,
          [
            ...lines.map((line) => ({
              type: 'RewardRedeemed' as const,
              payload: {
                programId: order.programId,
                orderId,
                memberId: order.memberId,
                lineId: line.id,
                rewardId: line.rewardId,
                rewardType: line.rewardType as 'PHYSICAL',
                quantity: line.quantity,
                points: line.pointsEach * line.quantity,
                cash: line.cashEach !== null && currency ? { amount: moneyText(fromMinor4(toMinor4(line.cashEach) * BigInt(line.quantity)), currency), currency } : null,
                partnerId: line.partnerId,
                holdId: holdId ?? order.holdId,
                // The cost when the line was confirmed: analytics' fulfilment cost follows the reward's cost at that time.
                unitCost: line.unitCostAmount !== null && line.unitCostCurrency ? { amount: formatMoneyAmount(line.unitCostAmount, line.unitCostCurrency), currency: line.unitCostCurrency } : null,
                redeemedAt: now.toISOString(),
              },
            })),
            stateChanged(order, 'PLACED', 'CONFIRMED', by, null, now),
            ...(delivered ? [stateChanged(order, 'CONFIRMED', 'DELIVERED', by, 'Delivered at once', now)] : []),
          ],
          now,
        );
        return 'DONE' as const;
      }),
    );
  }

  /**
   * Gives everything back: the hold first (so the points are free), then the stock. When the hold
   * turns out to have been captured already (another driver got there first), the order goes
   * forward instead: taken points are never left without their order.
   */
  private async undo(order: OrderRow, by: string, code: string, message: string, options: { noHold?: boolean } = {}): Promise<void> {
    if (!options.noHold && order.points > 0) {
      // A hold may exist even if the order never recorded it (a crash after the ledger held):
      // replaying the hold with its key finds it, or fails because none was made.
      let holdId = order.holdId;
      if (holdId === null) {
        const replay = await this.ledger.hold({ idempotencyKey: keys.hold(order.id), memberId: order.memberId, points: order.points, reference: `reward-order:${order.id}` });
        holdId = refused(replay) ? null : replay.holdId;
      }
      if (holdId !== null) {
        const released = await this.ledger.release(keys.release(order.id), holdId);
        if (refused(released)) {
          const status = await this.ledger.status(holdId);
          if (status === 'CAPTURED') {
            await this.confirm(order.id, by, holdId);
            return;
          }
        }
        await this.options.failpoint?.('after-release');
      }
    }
    await withRetries(() =>
      this.db.transaction(async (tx) => {
        const now = this.clock.now();
        const locked = (await this.load(tx, order.id, true))!;
        if (locked.sagaStep === 'DONE' || locked.sagaStep === 'UNDONE') return;
        const reservations = (await tx.query(`SELECT reward_id AS "rewardId", units FROM stock_reservations WHERE order_id = $1 AND status = 'OPEN' ORDER BY reward_id`, [order.id])) as {
          rewardId: string;
          units: number;
        }[];
        for (const r of reservations) await tx.query(`UPDATE rewards SET stock_reserved = stock_reserved - $2 WHERE id = $1`, [r.rewardId, r.units]);
        await tx.query(`UPDATE stock_reservations SET status = 'RELEASED' WHERE order_id = $1 AND status = 'OPEN'`, [order.id]);
        await tx.query(`UPDATE reward_orders SET saga_step = 'UNDONE', status = 'CANCELLED', failure_code = $2, failure_message = $3, updated_at = $4,
             -- A cash part already paid is owed back in full (announced below).
             cash_refunded = CASE WHEN payment_reference IS NOT NULL THEN coalesce(cash_amount, 0) ELSE cash_refunded END
           WHERE id = $1`, [order.id, code, message, now]);
        await this.recordChange(tx, order.id, 'PLACED', 'CANCELLED', by, message, now);
        // A cash part already paid (its confirmation came after the hold expired) goes back through the payment side.
        const paid = locked.paymentReference !== null && locked.cashAmount !== null;
        await emit(
          tx,
          catalogEvents,
          [
            stateChanged(locked, 'PLACED', 'CANCELLED', by, message, now),
            ...(paid
              ? [
                  {
                    type: 'RewardOrderCancelled' as const,
                    payload: {
                      programId: locked.programId,
                      orderId: locked.id,
                      memberId: locked.memberId,
                      lines: [],
                      pointsRefunded: 0,
                      cashRefunded: { amount: moneyText(locked.cashAmount!, locked.cashCurrency!), currency: locked.cashCurrency! },
                      paymentReference: locked.paymentReference,
                      returned: false,
                      reason: message,
                      at: now.toISOString(),
                    },
                  },
                ]
              : []),
          ],
          now,
        );
      }),
    );
  }

  /** Records a refund's ledger call as done (shared by cancellation, return and complaints). */
  async completeRefund(refundId: string): Promise<void> {
    const [refund] = (await this.db.query(
      `SELECT f.id, f.points, f.status, f.reason, o.hold_id AS "holdId" FROM reward_order_refunds f JOIN reward_orders o ON o.id = f.order_id WHERE f.id = $1`,
      [refundId],
    )) as { id: string; points: number; status: string; reason: string | null; holdId: string | null }[];
    if (!refund || refund.status === 'DONE') return;
    if (refund.points > 0 && refund.holdId) {
      const done = await this.ledger.refund({ idempotencyKey: keys.refund(refundId), holdId: refund.holdId, points: refund.points, reason: (refund.reason ?? 'Reward order refund').slice(0, 128) });
      if (refused(done)) throw new DomainError(done.refused.code, done.refused.message, null);
      await this.options.failpoint?.('after-refund');
    }
    await this.db.query(`UPDATE reward_order_refunds SET status = 'DONE', done_at = $2 WHERE id = $1 AND status = 'PENDING'`, [refundId, this.clock.now()]);
  }

  private async advanceStep(orderId: string, from: OrderRow['sagaStep'], to: OrderRow['sagaStep'], holdId: string | null): Promise<void> {
    await this.db.query(`UPDATE reward_orders SET saga_step = $3, hold_id = coalesce($4, hold_id), updated_at = $5 WHERE id = $1 AND saga_step = $2`, [orderId, from, to, holdId, this.clock.now()]);
  }

  private result(order: OrderRow): { orderId: string; failure: UserError | null } {
    return { orderId: order.id, failure: order.failureCode ? userError(order.failureCode, order.failureMessage ?? order.failureCode, null) : null };
  }

  private async byKey(programId: string, key: string): Promise<OrderRow | null> {
    const [row] = (await this.db.query(`SELECT ${ORDER} FROM reward_orders o WHERE o.program_id = $1 AND o.idempotency_key = $2`, [programId, key])) as OrderRow[];
    return row ?? null;
  }

  private async load(tx: EntityManager, orderId: string, lock = false): Promise<OrderRow | null> {
    const [row] = (await tx.query(`SELECT ${ORDER} FROM reward_orders o WHERE o.id = $1${lock ? ' FOR UPDATE' : ''}`, [orderId])) as OrderRow[];
    return row ?? null;
  }

  private async rewardsFor(tx: EntityManager, programId: string, lines: readonly OrderLineInput[]): Promise<Map<string, RewardRow>> {
    const ids = [...new Set(lines.map((l) => l.rewardId))];
    const rows = (await tx.query(`SELECT ${rewardColumns} FROM rewards r WHERE r.id = ANY($1::uuid[]) AND r.program_id = $2`, [ids, programId])) as RewardRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    lines.forEach((line, i) => {
      if (!byId.has(line.rewardId)) throw new DomainError('REWARD_NOT_FOUND', 'No such reward in the member’s program', `lines.${i}.rewardId`);
    });
    return byId;
  }

  private checkOrderable(reward: RewardRow, member: Pick<MemberFacts, 'tierId' | 'groupIds'>, now: Date, field: string): void {
    if (reward.status === 'RETIRED') throw new DomainError('RETIRED', 'The reward has been retired', field);
    if (!availableAt(reward, now)) throw new DomainError('NOT_AVAILABLE_NOW', 'The reward cannot be ordered now', field);
    if (!inAudience(reward, member)) {
      throw new DomainError(reward.tierIds.length > 0 ? 'TIER' : 'GROUP', 'The reward is not for the member’s tier or groups', field);
    }
  }

  /**
   * Per-member limits, counted in units over the rolling window. The advisory lock serialises
   * orders of one member for one reward, so twenty at once cannot all see "none ordered yet".
   */
  private async checkMemberLimits(tx: EntityManager, memberId: string, lines: readonly OrderLineInput[], rewards: Map<string, RewardRow>, now: Date): Promise<void> {
    const limited = [...demandByReward(lines)].filter(([rewardId]) => rewards.get(rewardId)!.limitCount !== null).sort(([a], [b]) => a.localeCompare(b));
    if (!limited.length) return;
    for (const [rewardId] of limited) await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`reward-limit:${memberId}:${rewardId}`]);
    // This order's own lines are already written: count the others only.
    const ordered = await unitsOrderedInWindow(tx, memberId, limited.map(([id]) => id), now);
    for (const [rewardId, wanted] of limited) {
      const reward = rewards.get(rewardId)!;
      checkMemberLimit({ count: reward.limitCount!, days: reward.limitDays! }, (ordered.get(rewardId) ?? 0) - wanted, wanted);
    }
  }

  /**
   * One conditional increment per reward (in id order, so two orders never deadlock): it either
   * finds the units free and reserves them, or changes nothing. The CHECK constraint on rewards is
   * the backstop should any path forget the condition.
   */
  private async reserve(tx: EntityManager, orderId: string, demand: Map<string, number>, rewards: Map<string, RewardRow>): Promise<void> {
    for (const [rewardId, units] of [...demand].sort(([a], [b]) => a.localeCompare(b))) {
      if (rewards.get(rewardId)!.stockReceived === null) continue;
      // The increment and the reservation row in one statement: no row when the units are not free.
      const reserved = (await tx.query(
        `WITH r AS (UPDATE rewards SET stock_reserved = stock_reserved + $2 WHERE id = $1 AND stock_received - stock_reserved - stock_sold >= $2 RETURNING id)
         INSERT INTO stock_reservations (order_id, reward_id, units, status) SELECT $3, id, $2, 'OPEN' FROM r RETURNING reward_id`,
        [rewardId, units, orderId],
      )) as unknown[];
      if (reserved.length === 0) throw new DomainError('OUT_OF_STOCK', `Fewer than ${units} unit${units === 1 ? '' : 's'} left`, 'lines');
    }
  }

  async recordChange(tx: EntityManager, orderId: string, from: RewardOrderStatus | null, to: RewardOrderStatus, by: string, reason: string | null, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO reward_order_changes (order_id, seq, from_status, to_status, changed_by, reason, changed_at)
       SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM reward_order_changes WHERE order_id = $1`,
      [orderId, from, to, by, reason, at],
    );
  }
}

export function stateChanged(order: Pick<OrderRow, 'programId' | 'id' | 'memberId'>, from: RewardOrderStatus, to: RewardOrderStatus, by: string, reason: string | null, at: Date) {
  return {
    type: 'RewardOrderStateChanged' as const,
    payload: { programId: order.programId, orderId: order.id, memberId: order.memberId, fromStatus: from, toStatus: to, changedBy: by, reason, changedAt: at.toISOString() },
  };
}

/** A booking reference people can read out on the phone: the order's first block and the line. */
function bookingReference(orderId: string, lineNo: number): string {
  return `BK-${orderId.slice(0, 8).toUpperCase()}-${lineNo}`;
}

/** Amounts are stored at 4 decimals; arithmetic in integers of 1/10,000. */
export function toMinor4(amount: string): bigint {
  const negative = amount.startsWith('-');
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole! || '0') * 10_000n + BigInt((fraction + '0000').slice(0, 4));
  return negative ? -value : value;
}

export function fromMinor4(value: bigint): string {
  const text = value.toString().padStart(5, '0');
  return `${text.slice(0, -4)}.${text.slice(-4)}`;
}

/** A stored amount at its currency's decimals. */
export function moneyText(amount: string, currency: string): string {
  const digits = currencyDigits(currency);
  const minor = toMinor4(amount) / 10n ** BigInt(4 - digits);
  const text = minor.toString().padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
