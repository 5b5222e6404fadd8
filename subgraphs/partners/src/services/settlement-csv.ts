import { toCsv } from '../domain/csv';
import type { SettlementItemRow } from '../entities';
import type { StatementModel } from './settlement';

const HEADER = [
  'record',
  'statement_id',
  'kind',
  'adjusted_kind',
  'adjustment',
  'original_period_start',
  'occurred_at',
  'points',
  'transactions',
  'price_per_point',
  'amount',
  'currency',
  'agreement_version',
  'item_id',
  'ledger_entry_id',
  'hold_id',
  'purchase_id',
  'order_id',
  'order_line_id',
];

/** A statement as CSV: its lines (record LINE), then its items (record ITEM) with their ledger references. */
export function statementCsv(statement: StatementModel, items: readonly SettlementItemRow[]): string {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return toCsv(HEADER, [
    ...statement.lines.map((l) => ['LINE', statement.id, l.kind, l.adjustedKind, null, null, null, l.points, l.transactions, null, l.amount, statement.currency, null, null, null, null, null, null, null]),
    ...items.map((i) => [
      'ITEM',
      statement.id,
      i.kind,
      null,
      i.adjustment,
      iso(i.originalPeriodStart),
      iso(i.occurredAt),
      i.points,
      null,
      i.pricePerPoint,
      i.amount,
      statement.currency,
      i.agreementVersion,
      i.id,
      i.ledgerEntryId,
      i.holdId,
      i.purchaseId,
      i.orderId,
      i.orderLineId,
    ]),
  ]);
}
