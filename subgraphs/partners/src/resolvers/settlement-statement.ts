import { formatMoneyAmount, rethrowInput } from '@loyalty-graph/shared';
import type { SettlementItemResolvers, SettlementLineResolvers, SettlementPaymentResolvers, SettlementStatementResolvers } from '../generated/resolvers';

const money = (amount: string, currency: string) => ({ amount: formatMoneyAmount(amount, currency), currency });

/** A statement was checked when it was fetched (settlementStatement, statements); its fields follow. */
export const SettlementStatement: SettlementStatementResolvers = {
  partner: (s, _args, { loaders }) => loaders.partnerById.load(s.partnerId).then((p) => p!),
  openingBalance: (s) => money(s.openingBalance, s.currency),
  netAmount: (s) => money(s.netAmount, s.currency),
  payments: (s) => money(s.payments, s.currency),
  closingBalance: (s) => money(s.closingBalance, s.currency),
  lines: (s) => s.lines.map((line) => ({ ...line, currency: s.currency })),
  items: (s, args, { services }) => rethrowInput(() => services.settlement.items(s, args)),
  csv: (s, _args, { services }) => services.settlement.csv(s),
  payment: (s, _args, { services }) => services.settlement.payment(s),
  reconciliationFailure: (s, _args, { services }) => services.settlement.failure(s),
};

export const SettlementLine: SettlementLineResolvers = {
  amount: (line) => money(line.amount, line.currency),
};

export const SettlementItem: SettlementItemResolvers = {
  // Filed items carry their price; provisional ones are priced when read (never null here).
  adjustment: (i) => i.adjustment ?? false,
  agreementVersion: (i) => i.agreementVersion ?? 0,
  pricePerPoint: (i) => money(i.pricePerPoint ?? '0', i.currency),
  amount: (i) => money(i.amount ?? '0', i.currency),
};

export const SettlementPayment: SettlementPaymentResolvers = {
  amount: async (p, _args, { services }) => money(p.amount, (await services.settlement.byId(p.statementId))!.currency),
  countedIn: (p, _args, { services }) => (p.countedInStatementId ? services.settlement.byId(p.countedInStatementId) : null),
};
