import { conflict, formatMoneyAmount } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';

/** A program's costs over [from, to), each a decimal string in `currency` (null when there was none). */
export interface ProgramCostFigures {
  /** Σ unit cost × units of reward lines redeemed, minus the units cancelled or returned, in the range. */
  fulfilmentCost: string;
  /** Σ net amounts of partners' settlement statements closed in the range; positive: partners owe the program. */
  settlementNet: string;
  currency: string | null;
}

/**
 * What the program paid out for rewards and what settlement with partners came to, from the
 * catalog's and partners' events. The business case (another service) calls `between`.
 */
export class Costs {
  constructor(private readonly db: DataSource) {}

  async between(programId: string, from: Date, to: Date): Promise<ProgramCostFigures> {
    // A cancelled or returned line costs nothing: its units are subtracted at the redeemed line's unit cost,
    // in the range the cancellation happened (a cancellation before confirmation has no REDEEMED row: nothing to subtract).
    const fulfilment = (await this.db.query(
      `SELECT currency, sum(cost)::numeric(20, 4)::text AS cost FROM (
         SELECT cost_currency AS currency, unit_cost * quantity AS cost
           FROM reward_facts WHERE program_id = $1 AND kind = 'REDEEMED' AND unit_cost IS NOT NULL AND occurred_at >= $2 AND occurred_at < $3
         UNION ALL
         SELECT r.cost_currency, -(r.unit_cost * c.quantity)
           FROM reward_facts c JOIN reward_facts r ON r.line_id = c.line_id AND r.kind = 'REDEEMED'
          WHERE c.program_id = $1 AND c.kind IN ('CANCELLED', 'RETURNED') AND r.unit_cost IS NOT NULL AND c.occurred_at >= $2 AND c.occurred_at < $3
       ) costs GROUP BY currency`,
      [programId, from, to],
    )) as { currency: string; cost: string }[];
    const settlement = (await this.db.query(
      `SELECT currency, sum(net_amount)::numeric(20, 4)::text AS net FROM partner_settlement_facts
        WHERE program_id = $1 AND closed_at >= $2 AND closed_at < $3 GROUP BY currency`,
      [programId, from, to],
    )) as { currency: string; net: string }[];
    const currencies = [...new Set([...fulfilment.map((r) => r.currency), ...settlement.map((r) => r.currency)])].sort();
    // Costs are summed, never converted: two currencies in one program are a setup to fix, not something to guess at.
    if (currencies.length > 1) throw conflict(`The program's costs are in several currencies (${currencies.join(', ')}); they cannot be added up`);
    const currency = currencies[0] ?? null;
    // At the currency's decimals (12.5000 EUR is 12.50); with no currency, nothing happened: 0.
    const shown = (amount: string | undefined) => (currency ? formatMoneyAmount(amount ?? '0', currency) : '0');
    return { fulfilmentCost: shown(fulfilment[0]?.cost), settlementNet: shown(settlement[0]?.net), currency };
  }
}
