import { forbidden } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadCatalog } from '../domain/policy';
import { programComplaints, programOrders, programRewards } from '../services/reads';
import { canHandleComplaints } from '../domain/policy';
import { isStaffOf } from '@loyalty-graph/shared';

/** Programs are owned by members; catalog contributes their rewards and catalogs. */
export interface ProgramRef {
  id: string;
}

export const Program: ProgramResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  rewards(program, args, { viewer, db }) {
    if (!canReadCatalog(viewer, program.id)) throw forbidden('You can only see your own program');
    return programRewards(db, program.id, args);
  },
  catalogs(program, _args, { viewer, loaders }) {
    if (!canReadCatalog(viewer, program.id)) throw forbidden('You can only see your own program');
    return loaders.catalogsByProgram.load(program.id);
  },
  rewardOrders(program, args, { viewer, db }) {
    if (!isStaffOf(viewer, program.id, ['ADMIN', 'AGENT', 'FULFILMENT'])) throw forbidden('You can only see your own program');
    return programOrders(db, program.id, args);
  },
  complaints(program, args, { viewer, db, clock }) {
    if (!canHandleComplaints(viewer, program.id)) throw forbidden('You can only see your own program');
    return programComplaints(db, program.id, args, clock.now());
  },
  async complaintSettings(program, _args, { viewer, services }) {
    if (!canHandleComplaints(viewer, program.id)) throw forbidden('You can only see your own program');
    return { deadlineDays: await services.complaints.deadlineDays(program.id) };
  },
};
