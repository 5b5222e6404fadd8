import { formatMoneyAmount, forbidden } from '@loyalty-graph/shared';
import type { RewardOrderLineResolvers, RewardOrderResolvers } from '../generated/resolvers';
import { canReadComplaint, canReadOrder } from '../domain/policy';
import { moneyText } from '../services/orders';
import DataLoader from 'dataloader';
import type { VoucherCodeView } from '../services/vouchers';

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
  async complaints(order, _args, { viewer, loaders }) {
    // Fulfilment reads orders but not complaints: they are the hotline's.
    if (!canReadComplaint(viewer, order)) throw forbidden('Complaints are read by their member and the program’s agents');
    return loaders.complaintsByOrder.load(order.id);
  },
  async replacesComplaint(order, _args, { viewer, loaders }) {
    if (order.replacesComplaintId === null) return null;
    if (!canReadComplaint(viewer, order)) throw forbidden('Complaints are read by their member and the program’s agents');
    return loaders.complaintById.load(order.replacesComplaintId);
  },
};

/** One batch per request for every line's codes (the viewer decides what is shown, so never shared). */
const codeLoaders = new WeakMap<object, DataLoader<string, VoucherCodeView[]>>();

export const RewardOrderLine: RewardOrderLineResolvers = {
  voucherCodes(line, _args, context) {
    let loader = codeLoaders.get(context);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const found = await context.services.vouchers.codesForLines(ids, context.viewer);
        return ids.map((id) => found.get(id) ?? []);
      });
      codeLoaders.set(context, loader);
    }
    return loader.load(line.id);
  },
  async reward(line, _args, { loaders }) {
    return (await loaders.rewardById.load(line.rewardId))!;
  },
  cashEach: (line) => money(line.cashEach, line.cashCurrency),
};
