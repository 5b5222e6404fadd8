import { selectList } from '@loyalty-graph/shared/db';
import type { ItemKind, StatementLine } from '../domain/settlement';

/** A row of `settlement_items`: one fact learnt from an event; priced once its statement closes. */
export interface SettlementItemRow {
  id: string;
  programId: string;
  partnerId: string;
  kind: ItemKind;
  points: number;
  occurredAt: Date;
  ledgerEntryId: string | null;
  holdId: string | null;
  purchaseId: string | null;
  orderId: string | null;
  orderLineId: string | null;
  statementId: string | null;
  adjustment: boolean | null;
  originalPeriodStart: Date | null;
  agreementVersion: number | null;
  pricePerPoint: string | null;
  amount: string | null;
}

export const settlementItemColumns = selectList<SettlementItemRow>({
  id: 'i.id',
  programId: 'i.program_id',
  partnerId: 'i.partner_id',
  kind: 'i.kind',
  points: 'i.points',
  occurredAt: 'i.occurred_at',
  ledgerEntryId: 'i.ledger_entry_id',
  holdId: 'i.hold_id',
  purchaseId: 'i.purchase_id',
  orderId: 'i.order_id',
  orderLineId: 'i.order_line_id',
  statementId: 'i.statement_id',
  adjustment: 'i.adjustment',
  originalPeriodStart: 'i.original_period_start',
  agreementVersion: 'i.agreement_version',
  pricePerPoint: 'i.price_per_point::text',
  amount: 'i.amount::text',
});

/** A row of `settlement_statements` (amounts as PostgreSQL's numeric text). */
export interface StatementRow {
  id: string;
  programId: string;
  partnerId: string;
  periodStart: Date;
  periodEnd: Date;
  currency: string;
  openingBalance: string;
  netAmount: string;
  payments: string;
  closingBalance: string;
  netIssuedPoints: number;
  lines: StatementLine[];
  itemCount: number;
  closedAt: Date;
}

export const statementColumns = selectList<StatementRow>({
  id: 's.id',
  programId: 's.program_id',
  partnerId: 's.partner_id',
  periodStart: 's.period_start',
  periodEnd: 's.period_end',
  currency: 's.currency',
  openingBalance: 's.opening_balance::text',
  netAmount: 's.net_amount::text',
  payments: 's.payments::text',
  closingBalance: 's.closing_balance::text',
  netIssuedPoints: 's.net_issued_points::int',
  lines: 's.lines',
  itemCount: 's.item_count',
  closedAt: 's.closed_at',
});

/** A row of `settlement_payments`. */
export interface PaymentRow {
  statementId: string;
  amount: string;
  points: number;
  reference: string | null;
  paidAt: Date;
  countedInStatementId: string | null;
}

export const paymentColumns = selectList<PaymentRow>({
  statementId: 'y.statement_id',
  amount: 'y.amount::text',
  points: 'y.points::int',
  reference: 'y.reference',
  paidAt: 'y.paid_at',
  countedInStatementId: 'y.counted_in_statement_id',
});
