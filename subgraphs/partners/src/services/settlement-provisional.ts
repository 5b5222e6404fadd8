import type { DataSource } from 'typeorm';
import { firstPeriod, periodStartingAt, statementId } from '../domain/periods';
import { buildStatement } from '../domain/settlement';
import { settlementItemColumns, type PartnerRow, type SettlementItemRow } from '../entities';
import type { StatementModel } from './settlement';
import { closedPeriods, lastClosed, originalPeriod, priceTerms } from './settlement-terms';

/** The id the partner's open period's statement has (and will keep once closed); null without an agreement. */
export async function openPeriodId(db: DataSource, partnerId: string): Promise<string | null> {
  const agreements = await priceTerms(db, partnerId);
  if (agreements.length === 0) return null;
  const last = await lastClosed(db, partnerId);
  return statementId(partnerId, (last ? periodStartingAt(agreements, last.periodEnd) : firstPeriod(agreements)).start);
}

/**
 * The open period's statement as it stands now: its items (not filed yet) priced as the close
 * would price them, the payments not counted yet, opening with the last closing balance.
 */
export async function provisionalStatement(db: DataSource, partner: PartnerRow): Promise<StatementModel | null> {
  const agreements = await priceTerms(db, partner.id);
  if (agreements.length === 0) return null;
  const last = await lastClosed(db, partner.id);
  const period = last ? periodStartingAt(agreements, last.periodEnd) : firstPeriod(agreements);
  const items = (await db.query(`SELECT ${settlementItemColumns} FROM settlement_items i WHERE i.partner_id = $1 AND i.statement_id IS NULL AND i.occurred_at < $2 ORDER BY i.occurred_at, i.id`, [
    partner.id,
    period.end,
  ])) as SettlementItemRow[];
  const payments = (await db.query(`SELECT amount::text AS amount FROM settlement_payments WHERE partner_id = $1 AND counted_in_statement_id IS NULL`, [partner.id])) as { amount: string }[];
  const { items: prices, ...totals } = buildStatement({ period, agreements, items, openingBalance: last?.closingBalance ?? '0', payments: payments.map((p) => p.amount) });
  const periods = await closedPeriods(db, partner.id);
  const priced = items.map((item) => {
    const price = prices.get(item.id)!;
    return { ...item, adjustment: price.adjustment, originalPeriodStart: price.adjustment ? originalPeriod(periods, item.occurredAt) : null, agreementVersion: price.agreementVersion, pricePerPoint: price.pricePerPoint, amount: price.amount };
  });
  return {
    id: statementId(partner.id, period.start),
    programId: partner.programId,
    partnerId: partner.id,
    status: 'PROVISIONAL',
    periodStart: period.start,
    periodEnd: period.end,
    ...totals,
    itemCount: items.length,
    closedAt: null,
    provisionalItems: priced,
  };
}
