import { badUserInput, forbidden, isUuid } from '@loyalty-graph/shared';
import type { ProgramKpiBucketResolvers, ProgramResolvers } from '../generated/resolvers';
import { averagePerPurchase } from '../domain/kpis';
import { canReadProgramKpis } from '../domain/policy';

export const Program: ProgramResolvers = {
  __resolveReference: (ref) => ref,
  async kpis(program, { period, from, to }, { viewer, services }) {
    if (!canReadProgramKpis(viewer, program.id)) throw forbidden('You can see only your own program');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.kpis.buckets(program.id, period, from, to);
  },
};

export const ProgramKpiBucket: ProgramKpiBucketResolvers = {
  averagePointsPerPurchase: (bucket) => averagePerPurchase(bucket.accruedPoints, bucket.purchases),
};
