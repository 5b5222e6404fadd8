import { currencyDigits } from '@loyalty-graph/shared';
import type { ProgramPointsTotalsResolvers } from '../generated/resolvers';
import { formatDecimal, parseDecimal } from '../domain/decimal';

/** Program-wide figures with the point value the members subgraph gave through @requires. */
export interface TotalsWithValue {
  issued: bigint;
  redeemed: bigint;
  expired: bigint;
  outstanding: bigint;
  pointValue: { amount: string; currency: string };
}

export const ProgramPointsTotals: ProgramPointsTotalsResolvers = {
  outstandingLiability: (totals) => ({
    // A sum owed, so at the currency's decimals (rounded half up), even when a point is worth 0.005.
    amount: formatDecimal(totals.outstanding * parseDecimal(totals.pointValue.amount, 'pointValue'), currencyDigits(totals.pointValue.currency)),
    currency: totals.pointValue.currency,
  }),
};
