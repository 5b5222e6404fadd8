import { forbidden } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canManageCatalog, canReadCatalog, canReadComplaint, canReadOrder } from '../domain/policy';
import { checkUuid } from '../domain/limits';
import { stockDiscrepancies } from '../services/stock-check';
import { rethrowInput } from '@loyalty-graph/shared';

export const Query: QueryResolvers = {
  async reward(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.rewardById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  async catalog(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.catalogById.load(id);
    if (found && !canReadCatalog(viewer, found.programId)) throw forbidden('You can only see your own program');
    return found;
  },
  async rewardOrder(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.orderById.load(id);
    // Someone else's order is as absent as a missing one: ids are not probed.
    return found && canReadOrder(viewer, found) ? found : null;
  },
  async complaint(_parent, { id }, { viewer, loaders }) {
    const found = await loaders.complaintById.load(id);
    // Like an order: someone else's complaint is as absent as a missing one.
    return found && canReadComplaint(viewer, found) ? found : null;
  },
  async rewardStockCheck(_parent, { programId }, { viewer, db }) {
    const id = await rethrowInput(async () => checkUuid(programId, 'programId'));
    if (!canManageCatalog(viewer, id)) throw forbidden('Only the program’s administrators check its stock');
    return stockDiscrepancies(db, id);
  },
};
