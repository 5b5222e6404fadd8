import { forbidden, type Connection } from '@loyalty-graph/shared';
import type { RequestContext } from '../context';
import type { JournalEntryRow, MemberBalanceRow } from '../entities';
import type { MemberResolvers } from '../generated/resolvers';
import { canReadMemberPoints } from '../domain/policy';

/** Members are owned by the members subgraph; the ledger contributes their points. */
export interface MemberRef {
  id: string;
}

const EMPTY: Connection<JournalEntryRow> = { edges: [], nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };

/**
 * The member's balance row, after checking the viewer may see it. A member without accounts has
 * no points yet; their program then comes from the members subgraph, for the same check.
 */
async function visibleBalance(member: MemberRef, { viewer, loaders }: RequestContext): Promise<MemberBalanceRow | null> {
  const balance = await loaders.balanceByMemberId.load(member.id);
  const programId = balance?.programId ?? (await loaders.memberSnapshot.load(member.id))?.programId;
  if (!programId) return null;
  if (!canReadMemberPoints(viewer, member.id, programId)) throw forbidden('You can see only your own points');
  return balance ?? { memberId: member.id, programId, rewardAccountId: null, statusAccountId: null, posted: 0, pending: 0, held: 0, statusPoints: 0, lifetimeEarned: 0 };
}

export const Member: MemberResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  points: (member, _args, context) => visibleBalance(member, context),
  async statement(member, { filter, ...page }, context) {
    const balance = await visibleBalance(member, context);
    if (!balance?.rewardAccountId) return EMPTY;
    return context.services.balances.statement(context.viewer, balance, filter, page);
  },
};
