import { badUserInput, forbidden, isUuid } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReconcile } from '../domain/policy';

export const Query: QueryResolvers = {
  async analyticsReconciliation(_parent, { programId }, { viewer, services, clock }) {
    if (!canReconcile(viewer, programId)) throw forbidden('You can reconcile only your own program');
    // Only an operator (no program of their own) gets here with an id that is not a UUID.
    if (!isUuid(programId)) throw badUserInput('programId is not an id', 'programId');
    return services.reconciler.reconcile(programId, clock.now());
  },
};
