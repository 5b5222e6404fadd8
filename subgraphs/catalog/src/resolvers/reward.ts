import { forbidden, formatMoneyAmount } from '@loyalty-graph/shared';
import type { RewardResolvers, RewardVersionResolvers } from '../generated/resolvers';
import { availableStock } from '../domain/eligibility';
import { canManageCatalog, canReadCatalog } from '../domain/policy';
import { translationFor } from '../domain/rewards';

export const Reward: RewardResolvers = {
  // Through the per-request loader: N representations, one SQL statement.
  async __resolveReference({ id }, { viewer, loaders }) {
    const found = await loaders.rewardById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  // Members owns programs: the gateway fetches any other Program field from there.
  program: (reward) => ({ id: reward.programId }),
  name: (reward, { locale }) => translationFor(reward, locale).name,
  description: (reward, { locale }) => translationFor(reward, locale).description,
  cash: (reward) => (reward.cashAmount && reward.cashCurrency ? { amount: formatMoneyAmount(reward.cashAmount, reward.cashCurrency), currency: reward.cashCurrency } : null),
  unitCost(reward, _args, { viewer }) {
    // What the program pays per unit is the admins' business, not the members' or agents'.
    if (!canManageCatalog(viewer, reward.programId)) throw forbidden('Only the program’s administrators see a reward’s cost');
    return reward.unitCostAmount && reward.unitCostCurrency ? { amount: formatMoneyAmount(reward.unitCostAmount, reward.unitCostCurrency), currency: reward.unitCostCurrency } : null;
  },
  availableFrom: (reward) => (reward.availableFrom ? new Date(reward.availableFrom) : null),
  availableUntil: (reward) => (reward.availableUntil ? new Date(reward.availableUntil) : null),
  stock: (reward) =>
    reward.stockReceived === null ? null : { received: reward.stockReceived, reserved: reward.stockReserved, sold: reward.stockSold, available: availableStock(reward)! },
  perMemberLimit: (reward) => (reward.limitCount !== null && reward.limitDays !== null ? { count: reward.limitCount, days: reward.limitDays } : null),
  experience: (reward) => (reward.experience ? { ...reward.experience, startsAt: new Date(reward.experience.startsAt) } : null),
  history(reward, _args, { viewer, loaders }) {
    if (!canReadCatalog(viewer, reward.programId)) throw forbidden('Only the program’s staff see a reward’s history');
    return loaders.versionsByReward.load(reward.id);
  },
  voucherPool(reward, _args, { viewer, loaders }) {
    if (!canReadCatalog(viewer, reward.programId)) throw forbidden('Only the program’s staff see a reward’s codes');
    return reward.type === 'E_VOUCHER' ? loaders.voucherPoolByReward.load(reward.id) : null;
  },
  createdAt: (reward) => new Date(reward.createdAt),
  updatedAt: (reward) => new Date(reward.updatedAt),
};

export const RewardVersion: RewardVersionResolvers = {
  reward: (version) => version.snapshot,
};
