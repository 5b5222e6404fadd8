import type { CharityResolvers, EarningRuleSetResolvers, PointsHoldResolvers, PurchaseResolvers, PurchaseReturnResolvers } from '../generated/resolvers';

export const Purchase: PurchaseResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.purchaseById.load(id),
  member: (purchase) => ({ id: purchase.memberId }),
  total: (purchase) => ({ amount: purchase.total, currency: purchase.currency }),
  channel: (purchase) => purchase.channel as never,
  pendingPoints: (purchase) => (purchase.postedAt ? 0 : purchase.points - purchase.returnedPoints),
};

export const PurchaseReturn: PurchaseReturnResolvers = {
  purchase: async (ret, _args, { loaders }) => (await loaders.purchaseById.load(ret.purchaseId))!,
  entry: (ret, _args, { loaders }) => (ret.entryId ? loaders.entryById.load(ret.entryId) : null),
};

export const Charity: CharityResolvers = {
  // Charities are public to their program's members; the name and total are not sensitive.
  // Batched: N representations from the gateway are one SQL statement.
  __resolveReference: ({ id }, { loaders }) => loaders.charityById.load(id),
};

export const PointsHold: PointsHoldResolvers = {
  __resolveReference: ({ id }, { loaders }) => loaders.holdById.load(id),
  member: (hold) => ({ id: hold.memberId }),
};

/** Published rules are stored as one JSON document per version. */
export const EarningRuleSet: EarningRuleSetResolvers = {
  currency: (set) => set.rules.currency,
  basePoints: (set) => set.rules.basePoints,
  perAmount: (set) => set.rules.perAmount,
  rounding: (set) => set.rules.rounding,
  minimumSpend: (set) => set.rules.minimumSpend,
  multipliers: (set) => set.rules.multipliers,
  campaigns: (set) => set.rules.campaigns.map((c) => ({ ...c, startsAt: new Date(c.startsAt), endsAt: new Date(c.endsAt) })),
  caps: (set) => set.rules.caps,
  discountPercent: (set) => set.rules.discountPercent,
};
