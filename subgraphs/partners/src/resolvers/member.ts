import { forbidden } from '@loyalty-graph/shared';
import type { MemberResolvers } from '../generated/resolvers';
import { canReadMemberOffers } from '../domain/policy';

/** Members are owned by the members subgraph; partners adds the offers a member is shown. */
export interface MemberRef {
  id: string;
}

export const Member: MemberResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  async offers(member, _args, { viewer, loaders }) {
    // One loader call per member; the loader answers every member of the request at once.
    const found = await loaders.offersByMember.load(member.id);
    // A member nobody knows has no offers (and tells staff of another program nothing).
    if (!found.member) return [];
    if (!canReadMemberOffers(viewer, found.member)) throw forbidden('You can see only your own offers, or your program’s members’');
    return found.offers;
  },
};
