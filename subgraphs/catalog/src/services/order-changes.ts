import { conflict, DomainError, forbidden, InputError, notFound, type Clock, type Viewer } from '@loyalty-graph/shared';
import { catalogEvents } from '@loyalty-graph/shared/contracts';
import { requestHash, validateKey, withRetries } from '@loyalty-graph/shared/db';
import { emit } from '@loyalty-graph/shared/events';
import type { DataSource, EntityManager } from 'typeorm';
import { cancellableIn, checkMove, type RewardOrderStatus } from '../domain/orders';
import { checkInt, checkText, checkUuid, LIMITS, optionalText } from '../domain/limits';
import { canFulfil, canReadOrder } from '../domain/policy';
import { fromMinor4, moneyText, stateChanged, toMinor4, type OrderService } from './orders';

interface OrderFacts {
  id: string;
  programId: string;
  memberId: string;
  status: RewardOrderStatus;
  sagaStep: string;
  points: number;
  pointsRefunded: number;
  cashAmount: string | null;
  cashCurrency: string | null;
  cashRefunded: string;
  paymentReference: string | null;
  holdId: string | null;
}

interface LineFacts {
  id: string;
  rewardId: string;
  rewardType: string;
  quantity: number;
  pointsEach: number;
  cashEach: string | null;
  cancelled: number;
  returned: number;
}

const FACTS = `o.id, o.program_id AS "programId", o.member_id AS "memberId", o.status, o.saga_step AS "sagaStep", o.points, o.points_refunded AS "pointsRefunded",
  o.cash_amount::text AS "cashAmount", o.cash_currency AS "cashCurrency", o.cash_refunded::text AS "cashRefunded", o.payment_reference AS "paymentReference",
  o.hold_id AS "holdId"`;

/** Rewards that are used up when delivered: nothing to send back, nothing to cancel. */
const NOT_CANCELLABLE = new Set(['E_VOUCHER', 'CHARITY', 'PARTNER_SERVICE']);

/**
 * What happens to an order after it is confirmed: fulfilment (pack, ship, deliver), cancellation
 * and return of some or all units, and points refunds for complaints. A refund commits its units
 * with a PENDING refund row, then asks the ledger (OrderService.completeRefund); recovery finishes
 * one a crash interrupted.
 */
export class OrderChangeService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly orders: OrderService,
  ) {}

  cancel(viewer: Viewer, input: CancelInput) {
    return this.giveBack(viewer, input, 'CANCELLATION');
  }

  giveBackReturned(viewer: Viewer, input: CancelInput) {
    return this.giveBack(viewer, input, 'RETURN');
  }

  /** A complaint resolved with points: up to what the order took and has not given back. */
  async refundPoints(viewer: Viewer, input: { idempotencyKey: string; orderId: string; points: number; reason: string }): Promise<{ orderId: string }> {
    validateKey(input.idempotencyKey);
    const orderId = checkUuid(input.orderId, 'orderId');
    const points = checkInt(input.points, 'points', 1, LIMITS.rewardPoints);
    const reason = checkText(input.reason, 'reason', LIMITS.reasonLength);
    const refundId = await withRetries(() =>
      this.db.transaction(async (tx) => {
        const order = await this.lock(tx, orderId);
        if (!(viewer.kind === 'SERVICE' || (viewer.kind === 'STAFF' && canReadOrder(viewer, order) && viewer.roles.some((r) => r === 'AGENT' || r === 'ADMIN')))) {
          throw forbidden('Refunds are made by the program’s agents');
        }
        const previous = await this.previous(tx, orderId, input.idempotencyKey, requestHash('refundPoints', { points, reason }));
        if (previous) return previous;
        if (order.sagaStep !== 'DONE') throw new DomainError('ORDER_NOT_CONFIRMED', 'Only a confirmed order’s points can be refunded', 'orderId');
        // A donation's points went to the charity, not through a hold: there is nothing to give back.
        if (order.holdId === null) throw new DomainError('NOT_REFUNDABLE', 'This order’s points cannot be refunded (a donation, or an order at no points)', 'orderId');
        if (order.pointsRefunded + points > order.points) {
          throw new DomainError('REFUND_EXCEEDS_ORDER', `At most ${order.points - order.pointsRefunded} more points can be refunded for this order`, 'points');
        }
        const now = this.clock.now();
        await tx.query(`UPDATE reward_orders SET points_refunded = points_refunded + $2, updated_at = $3 WHERE id = $1`, [orderId, points, now]);
        return this.recordRefund(tx, order, input.idempotencyKey, requestHash('refundPoints', { points, reason }), 'COMPLAINT', [], points, null, reason, viewer, now);
      }),
    );
    await this.finish(refundId);
    return { orderId };
  }

  /** Marks orders PACKED; each order on its own (one refused does not stop the others). */
  pack(viewer: Viewer, orderIds: readonly string[]) {
    return this.moveMany(viewer, orderIds, 'PACKED');
  }

  deliver(viewer: Viewer, orderIds: readonly string[]) {
    return this.moveMany(viewer, orderIds, 'DELIVERED');
  }

  async ship(viewer: Viewer, shipments: readonly { orderId: string; carrier: string; trackingNumber: string; trackingUrl?: string | null }[]) {
    if (shipments.length < 1 || shipments.length > LIMITS.bulkOrders) throw new InputError(`shipments must hold 1 to ${LIMITS.bulkOrders} parcels`, 'shipments');
    const checked = shipments.map((s, i) => {
      const url = optionalText(s.trackingUrl, `shipments.${i}.trackingUrl`, 500);
      if (url !== null && !/^https:\/\/[^\s]+$/.test(url)) throw new InputError('trackingUrl must be an https URL', `shipments.${i}.trackingUrl`);
      return {
        orderId: checkUuid(s.orderId, `shipments.${i}.orderId`),
        carrier: checkText(s.carrier, `shipments.${i}.carrier`, 100),
        trackingNumber: checkText(s.trackingNumber, `shipments.${i}.trackingNumber`, 100),
        trackingUrl: url,
      };
    });
    return this.each(checked, 'shipments', (tx, shipment, now) =>
      this.move(tx, viewer, shipment.orderId, 'SHIPPED', now, async () => {
        await tx.query(
          `INSERT INTO shipments (order_id, carrier, tracking_number, tracking_url, shipped_at, shipped_by) VALUES ($1, $2, $3, $4, $5, $6)`,
          [shipment.orderId, shipment.carrier, shipment.trackingNumber, shipment.trackingUrl, now, viewer.subject ?? viewer.kind],
        );
      }),
    );
  }

  private moveMany(viewer: Viewer, orderIds: readonly string[], to: 'PACKED' | 'DELIVERED') {
    if (orderIds.length < 1 || orderIds.length > LIMITS.bulkOrders) throw new InputError(`orderIds must hold 1 to ${LIMITS.bulkOrders} ids`, 'orderIds');
    const ids = orderIds.map((id, i) => checkUuid(id, `orderIds.${i}`));
    return this.each(ids, 'orderIds', (tx, orderId, now) =>
      this.move(tx, viewer, orderId, to, now, async () => {
        if (to === 'DELIVERED') await tx.query(`UPDATE shipments SET delivered_at = $2 WHERE order_id = $1`, [orderId, now]);
      }),
    );
  }

  /** One transaction per order: a bulk call moves every order it can and names the others. */
  private async each<T>(items: readonly T[], field: string, work: (tx: EntityManager, item: T, now: Date) => Promise<string>) {
    const moved: string[] = [];
    const userErrors: { code: string; field: string; message: string }[] = [];
    for (const [i, item] of items.entries()) {
      try {
        moved.push(await withRetries(() => this.db.transaction((tx) => work(tx, item, this.clock.now()))));
      } catch (error) {
        if (error instanceof DomainError) userErrors.push({ code: error.code, field: `${field}.${i}`, message: error.message });
        else throw error;
      }
    }
    return { orderIds: moved, userErrors };
  }

  private async move(tx: EntityManager, viewer: Viewer, orderId: string, to: RewardOrderStatus, now: Date, alongside: () => Promise<void>): Promise<string> {
    const order = await this.lock(tx, orderId).catch(() => {
      throw new DomainError('ORDER_NOT_FOUND', 'No such reward order', null);
    });
    if (!canFulfil(viewer, order.programId)) throw new DomainError('FORBIDDEN', 'The order is not in your program', null);
    if (to === 'PACKED' || to === 'SHIPPED') {
      const [physical] = (await tx.query(`SELECT count(*)::int AS n FROM reward_order_lines WHERE order_id = $1 AND reward_type IN ('PHYSICAL') AND quantity > cancelled`, [orderId])) as { n: number }[];
      if (physical!.n === 0) throw new DomainError('NOTHING_TO_SHIP', 'The order has no physical units left to ship', null);
    }
    checkMove(order.status, to);
    await alongside();
    await tx.query(`UPDATE reward_orders SET status = $2, updated_at = $3 WHERE id = $1`, [orderId, to, now]);
    const by = viewer.subject ?? viewer.kind;
    await this.orders.recordChange(tx, orderId, order.status, to, by, null, now);
    await emit(tx, catalogEvents, [stateChanged(order, order.status, to, by, null, now)], now);
    return orderId;
  }

  private async giveBack(viewer: Viewer, input: CancelInput, kind: 'CANCELLATION' | 'RETURN'): Promise<{ orderId: string }> {
    validateKey(input.idempotencyKey);
    const orderId = checkUuid(input.orderId, 'orderId');
    const reason = optionalText(input.reason, 'reason', LIMITS.reasonLength);
    const asked = input.lines?.map((l, i) => ({ lineId: checkUuid(l.lineId, `lines.${i}.lineId`), quantity: checkInt(l.quantity, `lines.${i}.quantity`, 1, LIMITS.orderQuantity) })) ?? null;
    const hash = requestHash(kind, { lines: asked, reason });
    const refundId = await withRetries(() =>
      this.db.transaction(async (tx) => {
        const order = await this.lock(tx, orderId);
        this.checkMayGiveBack(viewer, order, kind);
        const previous = await this.previous(tx, orderId, input.idempotencyKey, hash);
        if (previous) return previous;
        // A member may change their mind until fulfilment starts; afterwards the hotline decides.
        // Checked after the key: a member retrying a cancellation that went through (the order is
        // CANCELLED now) gets that cancellation back, not NOT_CANCELLABLE.
        if (viewer.kind === 'MEMBER' && order.status !== 'CONFIRMED') throw new DomainError('NOT_CANCELLABLE', 'Packing has started: ask the hotline to cancel', 'orderId');
        const phase = cancellableIn(order.status);
        if (order.sagaStep !== 'DONE' || phase === null || (kind === 'CANCELLATION') !== (phase === 'CANCEL')) {
          throw new DomainError(
            'NOT_CANCELLABLE',
            kind === 'CANCELLATION' ? `An order that is ${order.status} cannot be cancelled${phase === 'RETURN' ? '; record a return instead' : ''}` : `An order that is ${order.status} cannot be returned`,
            'orderId',
          );
        }
        const lines = (await tx.query(
          `SELECT id, reward_id AS "rewardId", reward_type AS "rewardType", quantity, points_each AS "pointsEach", cash_each::text AS "cashEach", cancelled, returned
           FROM reward_order_lines WHERE order_id = $1 ORDER BY line_no`,
          [orderId],
        )) as LineFacts[];
        const units = this.unitsToGiveBack(lines, asked);
        const now = this.clock.now();
        let points = 0;
        let cash = 0n;
        for (const { line, quantity } of units) {
          points += line.pointsEach * quantity;
          if (line.cashEach !== null) cash += toMinor4(line.cashEach) * BigInt(quantity);
          await tx.query(`UPDATE reward_order_lines SET ${kind === 'CANCELLATION' ? 'cancelled = cancelled' : 'returned = returned'} + $2 WHERE id = $1`, [line.id, quantity]);
          // Cancelled units never left: they are back on the shelf. Returned goods are not
          // restocked automatically (they may be damaged); an admin receives them as stock.
          if (kind === 'CANCELLATION') {
            await tx.query(`UPDATE rewards SET stock_sold = stock_sold - $2 WHERE id = $1 AND stock_received IS NOT NULL`, [line.rewardId, quantity]);
          }
        }
        // Whatever points a complaint refund already gave back are not given twice.
        points = Math.min(points, order.points - order.pointsRefunded);
        await tx.query(`UPDATE reward_orders SET points_refunded = points_refunded + $2, cash_refunded = cash_refunded + $3, updated_at = $4 WHERE id = $1`, [orderId, points, fromMinor4(cash), now]);
        const [left] = (await tx.query(`SELECT coalesce(sum(quantity - cancelled - returned), 0)::int AS n FROM reward_order_lines WHERE order_id = $1`, [orderId])) as { n: number }[];
        const by = viewer.subject ?? viewer.kind;
        if (left!.n === 0) {
          const to = kind === 'CANCELLATION' ? 'CANCELLED' : 'RETURNED';
          await tx.query(`UPDATE reward_orders SET status = $2 WHERE id = $1`, [orderId, to]);
          await this.orders.recordChange(tx, orderId, order.status, to, by, reason, now);
          await emit(tx, catalogEvents, [stateChanged(order, order.status, to, by, reason, now)], now);
        }
        const refundLines = units.map(({ line, quantity }) => ({ lineId: line.id, rewardId: line.rewardId, quantity }));
        return this.recordRefund(tx, order, input.idempotencyKey, hash, kind, refundLines, points, cash > 0n ? fromMinor4(cash) : null, reason, viewer, now);
      }),
    );
    await this.finish(refundId);
    return { orderId };
  }

  private checkMayGiveBack(viewer: Viewer, order: OrderFacts, kind: 'CANCELLATION' | 'RETURN'): void {
    if (viewer.kind === 'MEMBER') {
      if (kind === 'RETURN' || !canReadOrder(viewer, order)) throw forbidden('Members cancel only their own orders; returns are recorded by staff');
      return;
    }
    const roles = kind === 'CANCELLATION' ? (['AGENT', 'ADMIN'] as const) : (['AGENT', 'ADMIN', 'FULFILMENT'] as const);
    if (!(viewer.kind === 'STAFF' && canReadOrder(viewer, order) && viewer.roles.some((r) => (roles as readonly string[]).includes(r)))) throw forbidden('Not an order of your program');
  }

  private unitsToGiveBack(lines: LineFacts[], asked: { lineId: string; quantity: number }[] | null): { line: LineFacts; quantity: number }[] {
    const open = (line: LineFacts) => line.quantity - line.cancelled - line.returned;
    if (asked === null) {
      const all = lines.filter((l) => open(l) > 0 && !NOT_CANCELLABLE.has(l.rewardType)).map((line) => ({ line, quantity: open(line) }));
      if (all.length === 0) throw new DomainError('NOT_CANCELLABLE', 'Nothing in the order can be cancelled (codes, donations and partner services are used once issued)', 'orderId');
      return all;
    }
    const byId = new Map(lines.map((l) => [l.id, l]));
    const wanted = new Map<string, number>();
    asked.forEach((a, i) => {
      const line = byId.get(a.lineId);
      if (!line) throw new DomainError('LINE_NOT_FOUND', 'No such line in this order', `lines.${i}.lineId`);
      if (NOT_CANCELLABLE.has(line.rewardType)) throw new DomainError('NOT_CANCELLABLE', `A ${line.rewardType} line cannot be cancelled once issued`, `lines.${i}.lineId`);
      const total = (wanted.get(a.lineId) ?? 0) + a.quantity;
      if (total > open(line)) throw new DomainError('TOO_MANY_UNITS', `The line has ${open(line)} unit${open(line) === 1 ? '' : 's'} left`, `lines.${i}.quantity`);
      wanted.set(a.lineId, total);
    });
    return [...wanted].map(([lineId, quantity]) => ({ line: byId.get(lineId)!, quantity }));
  }

  private async recordRefund(
    tx: EntityManager,
    order: OrderFacts,
    key: string,
    hash: string,
    kind: 'CANCELLATION' | 'RETURN' | 'COMPLAINT',
    lines: { lineId: string; rewardId: string; quantity: number }[],
    points: number,
    cash: string | null,
    reason: string | null,
    viewer: Viewer,
    now: Date,
  ): Promise<string> {
    const [refund] = (await tx.query(
      `INSERT INTO reward_order_refunds (order_id, idempotency_key, request_hash, kind, lines, points, cash_amount, reason, status, requested_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9, $10) RETURNING id`,
      [order.id, key, hash, kind, JSON.stringify(lines), points, cash, reason, viewer.subject ?? viewer.kind, now],
    )) as { id: string }[];
    if (kind !== 'COMPLAINT' || points > 0) {
      await emit(
        tx,
        catalogEvents,
        [
          {
            type: 'RewardOrderCancelled',
            payload: {
              programId: order.programId,
              orderId: order.id,
              memberId: order.memberId,
              lines,
              pointsRefunded: points,
              cashRefunded: cash && order.cashCurrency ? { amount: moneyText(cash, order.cashCurrency), currency: order.cashCurrency } : null,
              paymentReference: order.paymentReference,
              returned: kind === 'RETURN',
              reason,
              at: now.toISOString(),
            },
          },
        ],
        now,
      );
    }
    return refund!.id;
  }

  /** The same key for this order: the earlier refund (the same request) or a CONFLICT. */
  private async previous(tx: EntityManager, orderId: string, key: string, hash: string): Promise<string | null> {
    const [row] = (await tx.query(`SELECT id, request_hash AS hash FROM reward_order_refunds WHERE order_id = $1 AND idempotency_key = $2`, [orderId, key])) as { id: string; hash: string }[];
    if (!row) return null;
    if (row.hash !== hash) throw conflict(`idempotencyKey ${key} was already used for a different request on this order`);
    return row.id;
  }

  /** Asks the ledger now; if it does not answer, recovery does later (the units are already given back). */
  private async finish(refundId: string): Promise<void> {
    try {
      await this.orders.completeRefund(refundId);
    } catch {
      // PENDING: recovery completes it (OrderService.recover).
    }
  }

  private async lock(tx: EntityManager, orderId: string): Promise<OrderFacts> {
    const [order] = (await tx.query(`SELECT ${FACTS} FROM reward_orders o WHERE o.id = $1 FOR UPDATE`, [orderId])) as OrderFacts[];
    if (!order) throw notFound('Reward order');
    return order;
  }
}

export interface CancelInput {
  idempotencyKey: string;
  orderId: string;
  lines?: readonly { lineId: string; quantity: number }[] | null;
  reason?: string | null;
}
