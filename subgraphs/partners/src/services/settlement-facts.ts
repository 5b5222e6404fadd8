import { isUuid, type Clock } from '@loyalty-graph/shared';
import { catalogEvents, ledgerEvents, type LedgerEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption, type ContractEvent } from '@loyalty-graph/shared/events';
import type { EntityManager } from 'typeorm';
import type { ItemKind } from '../domain/settlement';

type CatalogEvents = typeof catalogEvents;

interface NewItem {
  programId: string;
  partnerId: string;
  kind: ItemKind;
  sourceKey: string;
  points: number;
  occurredAt: Date;
  eventId: string;
  ledgerEntryId?: string | null;
  holdId?: string | null;
  purchaseId?: string | null;
  orderId?: string | null;
  orderLineId?: string | null;
}

/**
 * Settlement's facts, learnt from the ledger's and the catalog's events: one item per fact, by its
 * natural key (a redelivered event, or the same fact twice, inserts nothing). An item is never
 * filed here: the close job files the items of a period when it closes, so an item arriving after
 * its period closed simply waits for the next close, which makes it an adjustment there.
 */
export class SettlementFacts {
  constructor(private readonly clock: Clock) {}

  consumptions(): Consumption[] {
    return [
      consume(
        ledgerEvents,
        { PointsAccrued: (tx, event) => this.accrued(tx, event), PointsReturned: (tx, event) => this.returned(tx, event) },
        { does: 'settlement items: points issued at a partner (ISSUED, at the purchase time) and clawed back by returns (RETURNED), with their journal entries' },
      ),
      consume(
        catalogEvents,
        { RewardRedeemed: (tx, event) => this.redeemed(tx, event), RewardOrderCancelled: (tx, event) => this.cancelled(tx, event) },
        { does: "settlement items: redemptions of partners' rewards (REDEEMED, with the hold that paid) and their cancelled units, pro rata (REDEMPTION_REVERSED)" },
      ),
    ];
  }

  private async accrued(tx: EntityManager, event: ContractEvent<LedgerEvents, 'PointsAccrued'>): Promise<void> {
    const p = event.payload;
    // Only status points (no reward points): nothing was funded, there is no funding line to settle.
    if (!p.partnerId || p.points <= 0) return;
    await this.insert(tx, {
      programId: p.programId,
      partnerId: p.partnerId,
      kind: 'ISSUED',
      sourceKey: `entry:${p.entryId}`,
      points: p.points,
      // The purchase's own time: a purchase recorded late belongs to the period it was made in.
      occurredAt: new Date(p.occurredAt),
      eventId: event.id,
      ledgerEntryId: p.entryId,
      purchaseId: p.purchaseId,
    });
  }

  private async returned(tx: EntityManager, event: ContractEvent<LedgerEvents, 'PointsReturned'>): Promise<void> {
    const p = event.payload;
    if (!p.partnerId || p.points <= 0) return;
    await this.insert(tx, {
      programId: p.programId,
      partnerId: p.partnerId,
      kind: 'RETURNED',
      sourceKey: `entry:${p.entryId}`,
      points: -p.points,
      occurredAt: new Date(event.occurredAt),
      eventId: event.id,
      ledgerEntryId: p.entryId,
      purchaseId: p.purchaseId,
    });
  }

  private async redeemed(tx: EntityManager, event: ContractEvent<CatalogEvents, 'RewardRedeemed'>): Promise<void> {
    const p = event.payload;
    const partnerId = p.partnerId && isUuid(p.partnerId) ? p.partnerId.toLowerCase() : null;
    const holdId = p.holdId ?? null;
    // Every line with a hold (a partner's or not): a hold pays for a whole order (see the migration).
    if (holdId || partnerId) {
      await tx.query(
        `INSERT INTO settlement_redeemed_lines (order_line_id, order_id, hold_id, partner_id, quantity, points) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_line_id) DO NOTHING`,
        [p.lineId, p.orderId, holdId, partnerId, p.quantity, p.points],
      );
    }
    if (!partnerId || p.points <= 0) return;
    await this.insert(tx, {
      programId: p.programId,
      partnerId,
      kind: 'REDEEMED',
      sourceKey: `line:${p.lineId}`,
      points: p.points,
      occurredAt: new Date(p.redeemedAt),
      eventId: event.id,
      holdId,
      orderId: p.orderId,
      orderLineId: p.lineId,
    });
  }

  private async cancelled(tx: EntityManager, event: ContractEvent<CatalogEvents, 'RewardOrderCancelled'>): Promise<void> {
    const p = event.payload;
    if (p.lines.length === 0) return;
    const ours = (await tx.query(
      `SELECT order_line_id AS "lineId", partner_id AS "partnerId", hold_id AS "holdId", quantity, points FROM settlement_redeemed_lines WHERE order_line_id = ANY($1::uuid[]) AND partner_id IS NOT NULL`,
      [p.lines.map((l) => l.lineId)],
    )) as { lineId: string; partnerId: string; holdId: string | null; quantity: number; points: number }[];
    const byLine = new Map(ours.map((line) => [line.lineId, line]));
    for (const cancelled of p.lines) {
      // Not a partner's redemption (or one this subgraph never saw confirmed): nothing to settle.
      const line = byLine.get(cancelled.lineId);
      if (!line) continue;
      // Pro rata by quantity: a line's points are its units' price × quantity, so this is exact.
      const points = Math.floor((line.points * cancelled.quantity) / line.quantity);
      if (points <= 0) continue;
      await this.insert(tx, {
        programId: p.programId,
        partnerId: line.partnerId,
        kind: 'REDEMPTION_REVERSED',
        sourceKey: `reversal:${event.id}:${cancelled.lineId}`,
        points: -points,
        occurredAt: new Date(p.at),
        eventId: event.id,
        holdId: line.holdId,
        orderId: p.orderId,
        orderLineId: cancelled.lineId,
      });
    }
  }

  private async insert(tx: EntityManager, item: NewItem): Promise<void> {
    await tx.query(
      // A partner of another program is not this program's to settle with (the ledger's funding
      // account is per program, so reconciliation would never find the entry): such a fact is skipped.
      `INSERT INTO settlement_items (program_id, partner_id, kind, source_key, points, occurred_at, received_at, event_id, ledger_entry_id, hold_id, purchase_id, order_id, order_line_id)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
       WHERE NOT EXISTS (SELECT 1 FROM partners WHERE id = $2 AND program_id <> $1)
       ON CONFLICT (source_key) DO NOTHING`,
      [
        item.programId,
        item.partnerId,
        item.kind,
        item.sourceKey,
        item.points,
        item.occurredAt,
        this.clock.now(),
        item.eventId,
        item.ledgerEntryId ?? null,
        item.holdId ?? null,
        item.purchaseId ?? null,
        item.orderId ?? null,
        item.orderLineId ?? null,
      ],
    );
  }
}
