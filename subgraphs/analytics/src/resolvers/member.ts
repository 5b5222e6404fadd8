import { forbidden, isUuid } from '@loyalty-graph/shared';
import type { MemberResolvers } from '../generated/resolvers';
import { canReadSegments, memberSegmentsView } from '../domain/policy';

/** Members are owned by the members subgraph; analytics adds their segments and RFM (the reference is resolved in surveys.ts). */
export const MemberSegments: Pick<MemberResolvers, 'segments' | 'rfm'> = {
  async segments(member, _args, { viewer, services }) {
    // A malformed id is no member analytics knows: in no segment (and it tells nobody anything).
    if (!isUuid(member.id)) return [];
    const { programId, segments } = await services.segments.ofMember(member.id);
    if (programId === null) {
      // Unknown to analytics: only the member themself or staff may learn that they are in nothing.
      if (viewer.kind === 'MEMBER' && viewer.memberId !== member.id) throw forbidden('You can see only your own segments');
      return [];
    }
    const view = memberSegmentsView(viewer, { id: member.id, programId }, await services.segments.membersSeeSegments(programId));
    if (view === null) throw forbidden('You can see only your own segments, or your program’s members’');
    if (view === 'NONE') return [];
    return view === 'ALL' ? segments : segments.filter((s) => s.visibleToMembers);
  },
  async rfm(member, _args, { viewer, services }) {
    if (!isUuid(member.id)) return null;
    const found = await services.segments.rfmOf(member.id);
    if (!found) return null;
    if (!canReadSegments(viewer, found.programId)) throw forbidden('You can see only your program’s members’ RFM');
    return found.rfm;
  },
};
