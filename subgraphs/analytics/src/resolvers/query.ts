import { forbidden } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canReconcile } from '../domain/policy';

export const Query: QueryResolvers = {
  async analyticsReconciliation(_parent, { programId }, { viewer, services, clock }) {
    if (!canReconcile(viewer, programId)) throw forbidden('You can reconcile only your own program');
    return services.reconciler.reconcile(programId, clock.now());
  },
};
