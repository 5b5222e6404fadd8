import { formatMoneyAmount, forbidden } from '@loyalty-graph/shared';
import type { RewardOrderLineResolvers, RewardOrderResolvers } from '../generated/resolvers';
import { canReadOrder } from '../domain/policy';
import { moneyText } from '../services/orders';

const money = (amount: string | null, currency: string | null) => (amount !== null && currency !== null ? { amount: moneyText(amount, currency), currency } : null);

export const RewardOrder: RewardOrderResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const found = await loaders.orderById.load(id);
    if (found && !canReadOrder(viewer, found)) throw forbidden('Not your order');
    return found;
  },
  program: (order) => ({ id: order.programId }),
  member: (order) => ({ id: order.memberId }),
  cash: (order) => money(order.cashAmount, order.cashCurrency),
  cashRefunded: (order) => (order.cashCurrency ? { amount: formatMoneyAmount(moneyText(order.cashRefunded, order.cashCurrency), order.cashCurrency), currency: order.cashCurrency } : null),
  lines: (order, _args, { loaders }) => loaders.linesByOrder.load(order.id),
  history: (order, _args, { loaders }) => loaders.changesByOrder.load(order.id),
  shipment: (order, _args, { loaders }) => loaders.shipmentByOrder.load(order.id),
};

export const RewardOrderLine: RewardOrderLineResolvers = {
  async reward(line, _args, { loaders }) {
    return (await loaders.rewardById.load(line.rewardId))!;
  },
  cashEach: (line) => money(line.cashEach, line.cashCurrency),
};
