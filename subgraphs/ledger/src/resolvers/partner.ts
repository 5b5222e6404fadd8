import { forbidden } from '@loyalty-graph/shared';
import type { PartnerResolvers } from '../generated/resolvers';
import { canReadPartnerFunding } from '../domain/policy';

/** A partner as the gateway hands it over: its id and, for `funding`, its program (@requires). */
export interface PartnerRef {
  id: string;
  program?: { id: string };
}

export const Partner: PartnerResolvers = {
  __resolveReference: (ref) => ref,
  async funding(partner, _args, { viewer, loaders }) {
    // The program comes from the partners subgraph through @requires.
    if (!partner.program) throw new Error('Partner.funding needs Partner.program (@requires)');
    if (!canReadPartnerFunding(viewer, partner.program.id, partner.id)) throw forbidden('You can see only your own program’s partners, or your own funding');
    return loaders.partnerFunding.load(`${partner.program.id}/${partner.id}`);
  },
};
