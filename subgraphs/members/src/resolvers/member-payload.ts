import type { Payload } from '@loyalty-graph/shared';
import type { MemberEntity } from '../entities/member';
import type { MemberPayloadResolvers } from '../generated/resolvers';
import { partnerMemberView } from '../domain/enrolment';

/** What the mutations return (toPayload); partnerMember is derived from it here. */
export type MemberPayloadModel = Payload<'member', MemberEntity>;

/**
 * `member` is the service's answer as is (its @access keeps partner keys out of it); a partner
 * key gets `partnerMember` instead, the same minimised view as partnerMemberLookup.
 */
export const MemberPayload: MemberPayloadResolvers = {
  async partnerMember(payload, _args, { loaders }) {
    const member = payload.member;
    if (!member) return null;
    const tier = member.tierId ? await loaders.tierById.load(member.tierId) : null;
    return partnerMemberView(member, tier?.name ?? null);
  },
};
