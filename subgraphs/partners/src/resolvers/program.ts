import { forbidden } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadOffers, canReadPartners } from '../domain/policy';
import { listOffers } from '../services/offers';

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
  offers(program, { status, ...page }, { viewer, db }) {
    if (!canReadOffers(viewer, { programId: program.id, partnerId: null })) throw forbidden('You can only see your own program');
    return listOffers(db, { programId: program.id }, status, page);
  },
};
