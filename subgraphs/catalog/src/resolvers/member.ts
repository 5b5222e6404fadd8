import type { RequestContext } from '../context';
import type { MemberResolvers } from '../generated/resolvers';
import type { MemberCatalogValue } from '../services/catalogs';
import { eligibleRewards } from '../services/catalogs';
import { memberComplaints, memberOrders } from '../services/reads';
import { canReadMemberCatalogs } from '../domain/policy';
import { forbidden, rethrowInput } from '@loyalty-graph/shared';

export type { MemberCatalogValue } from '../services/catalogs';

/**
 * Members are owned by the members subgraph. `points` is the ledger's, sent by the gateway with
 * the representation because catalogs and eligibleRewards @require it.
 */
export interface MemberRef {
  id: string;
  points?: { available?: number | null } | null;
}

/** The member's catalogs, computed once per member per request (both fields use them). */
const computed = new WeakMap<object, Map<string, Promise<MemberCatalogValue[]>>>();

function catalogsOf(member: MemberRef, context: RequestContext): Promise<MemberCatalogValue[]> {
  let perRequest = computed.get(context);
  if (!perRequest) computed.set(context, (perRequest = new Map()));
  let found = perRequest.get(member.id);
  if (!found) {
    // No points in the ledger yet (null) is nothing to spend.
    found = context.services.memberCatalogs.forMember(context.viewer, member.id, member.points?.available ?? 0);
    perRequest.set(member.id, found);
  }
  return found;
}

export const Member: MemberResolvers = {
  __resolveReference: (ref) => ref,
  catalogs: (member, _args, context) => catalogsOf(member, context),
  eligibleRewards: async (member, _args, context) => eligibleRewards(await catalogsOf(member, context)),
  async rewardOrders(member, args, { viewer, db, services }) {
    const [facts] = await services.members([member.id]);
    if (!facts || !canReadMemberCatalogs(viewer, member.id, facts.programId)) throw forbidden('You can see only your own orders, or your program’s');
    return memberOrders(db, member.id, args);
  },
  async complaints(member, args, { viewer, db, services }) {
    const [facts] = await services.members([member.id]);
    if (!facts || !canReadMemberCatalogs(viewer, member.id, facts.programId)) throw forbidden('You can see only your own complaints, or your program’s');
    return rethrowInput(() => memberComplaints(db, member.id, args));
  },
};
