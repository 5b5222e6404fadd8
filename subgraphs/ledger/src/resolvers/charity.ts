import { forbidden } from '@loyalty-graph/shared';
import type { CharityResolvers } from '../generated/resolvers';
import { canReadCharities } from '../domain/policy';

export const Charity: CharityResolvers = {
  // Charities are public to their program's members and staff, not to other programs or anonymous
  // callers. Batched: N representations from the gateway are one SQL statement.
  async __resolveReference({ id }, { viewer, loaders }) {
    const charity = await loaders.charityById.load(id);
    if (charity && !canReadCharities(viewer, charity.programId)) throw forbidden();
    return charity;
  },
};
