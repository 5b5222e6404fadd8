import { formatMoneyAmount } from '@loyalty-graph/shared';
import type { EarningRuleSetResolvers } from '../generated/resolvers';

/** Published rules are stored as one JSON document per version. */
export const EarningRuleSet: EarningRuleSetResolvers = {
  currency: (set) => set.rules.currency,
  basePoints: (set) => set.rules.basePoints,
  perAmount: (set) => set.rules.perAmount,
  rounding: (set) => set.rules.rounding,
  // An amount of money (rates such as perAmount stay as written): at the currency's decimals,
  // also for versions published before the Decimal scalar kept the scale ("20" → "20.00").
  minimumSpend: (set) => (set.rules.minimumSpend === null ? null : formatMoneyAmount(set.rules.minimumSpend, set.rules.currency)),
  multipliers: (set) => set.rules.multipliers,
  campaigns: (set) => set.rules.campaigns.map((c) => ({ ...c, startsAt: new Date(c.startsAt), endsAt: new Date(c.endsAt) })),
  caps: (set) => set.rules.caps,
  discountPercent: (set) => set.rules.discountPercent,
};
