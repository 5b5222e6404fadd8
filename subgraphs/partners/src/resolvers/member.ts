import { badUserInput, decodeCursor, encodeCursor, forbidden, isUuid, pageSize, toConnection } from '@loyalty-graph/shared';
import type { MemberResolvers } from '../generated/resolvers';
import { pageOfShown, shownOfferKey } from '../domain/offers';
import { canReadMemberOffers } from '../domain/policy';

/** Members are owned by the members subgraph; partners adds the offers a member is shown. */
export interface MemberRef {
  id: string;
}

export const Member: MemberResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  async offers(member, { first, after }, { viewer, loaders }) {
    const limit = pageSize(first);
    const from = offerCursor(after);
    // One loader call per member; the loader answers every member of the request at once.
    const found = await loaders.offersByMember.load(member.id);
    // A member nobody knows has no offers (and tells staff of another program nothing).
    if (found.member && !canReadMemberOffers(viewer, found.member)) throw forbidden('You can see only your own offers, or your program’s members’');
    return toConnection(pageOfShown(found.offers, from, limit), limit, (shown) => encodeCursor(shownOfferKey(shown)));
  },
};

/** The keyset a Member.offers cursor carries (rank, validUntil in ms, id), checked before use. */
function offerCursor(after: string | null | undefined): [number, number, string] | null {
  const values = decodeCursor(after, 3);
  if (!values) return null;
  const [rank, until, id] = [Number(values[0]), Number(values[1]), values[2]!];
  if (![0, 1, 2].includes(rank) || !Number.isSafeInteger(until) || !isUuid(id)) throw badUserInput('after is not a cursor this list produced', 'after');
  return [rank, until, id];
}
