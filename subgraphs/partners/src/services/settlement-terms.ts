import type { EntityManager } from 'typeorm';
import type { PriceTerms } from '../domain/settlement';
import type { Period } from '../domain/periods';

type Queryable = Pick<EntityManager, 'query'>;

/** A partner's agreement versions as settlement prices them, oldest first. */
export async function priceTerms(db: Queryable, partnerId: string): Promise<PriceTerms[]> {
  return (await db.query(
    `SELECT version, effective_from AS "effectiveFrom", currency, issue_price::text AS "issuePrice", redemption_price::text AS "redemptionPrice",
            fixed_fee::text AS "fixedFee", transaction_fee::text AS "transactionFee", settlement_period AS "settlementPeriod"
     FROM partner_agreements WHERE partner_id = $1 ORDER BY version`,
    [partnerId],
  )) as PriceTerms[];
}

/** The partner's latest closed statement: where the next period starts, and its closing balance. */
export async function lastClosed(db: Queryable, partnerId: string): Promise<{ periodEnd: Date; closingBalance: string } | null> {
  const [row] = (await db.query(`SELECT period_end AS "periodEnd", closing_balance::text AS "closingBalance" FROM settlement_statements WHERE partner_id = $1 ORDER BY period_start DESC LIMIT 1`, [
    partnerId,
  ])) as { periodEnd: Date; closingBalance: string }[];
  return row ?? null;
}

/** The partner's closed periods, oldest first. */
export async function closedPeriods(db: Queryable, partnerId: string): Promise<Period[]> {
  return (await db.query(`SELECT period_start AS start, period_end AS "end" FROM settlement_statements WHERE partner_id = $1 ORDER BY period_start`, [partnerId])) as Period[];
}

/** The closed period an earlier business time fell in (an adjustment's original period); null before the first. */
export function originalPeriod(periods: readonly Period[], at: Date): Date | null {
  return periods.find((p) => p.start.getTime() <= at.getTime() && at.getTime() < p.end.getTime())?.start ?? null;
}
