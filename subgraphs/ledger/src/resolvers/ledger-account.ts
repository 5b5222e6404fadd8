import { forbidden } from '@loyalty-graph/shared';
import type { LedgerAccountResolvers } from '../generated/resolvers';
import { canReadAccount } from '../domain/policy';

export const LedgerAccount: LedgerAccountResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const account = await loaders.accountById.load(id);
    if (account && !canReadAccount(viewer, account)) throw forbidden();
    return account;
  },
};
