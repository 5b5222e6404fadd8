import { forbidden } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadPartners } from '../domain/policy';

/** Programs are owned by members; partners contributes their partners. */
export interface ProgramRef {
  id: string;
}

export const Program: ProgramResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  partners(program, _args, { viewer, loaders }) {
    if (!canReadPartners(viewer, program.id)) throw forbidden('You can only see your own program');
    return loaders.partnersByProgram.load(program.id);
  },
};
