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
    amount: formatDecimal(totals.outstanding * parseDecimal(totals.pointValue.amount, 'pointValue')),
    currency: totals.pointValue.currency,
  }),
};
