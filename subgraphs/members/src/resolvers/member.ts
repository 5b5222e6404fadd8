import { forbidden } from '@loyalty-graph/shared';
import type { MemberResolvers } from '../generated/resolvers';
import { canReadMember } from '../domain/policy';
import { manualApplies, periodAt, tierProgress } from '../domain/tier-qualification';

export const Member: MemberResolvers = {
  /** Batched: the gateway's `_entities` call for N members is one SQL statement. */
  async __resolveReference({ id }, { viewer, loaders }) {
    const member = await loaders.memberById.load(id);
    if (member && !canReadMember(viewer, member)) throw forbidden('You cannot see this member');
    return member;
  },
  program: async (member, _args, { loaders }) => (await loaders.programById.load(member.programId))!,
  identifiers: (member, _args, { loaders }) => loaders.identifiersByMemberId.load(member.id),
  pendingIdentifiers: (member, _args, { loaders }) => loaders.pendingIdentifiersByMemberId.load(member.id),
  tier: (member, _args, { loaders }) => (member.tierId ? loaders.tierById.load(member.tierId) : null),
  async tierProgress(member, _args, { loaders, clock }) {
    const { tiers: rules } = await loaders.settingsByProgramId.load(member.programId);
    const now = clock.now();
    const period = periodAt(rules, now);
    const points = await loaders.statusPoints.load(`${member.id}|${period.start.toISOString()}|${period.end.toISOString()}`);
    return tierProgress(rules, await loaders.tiersByProgramId.load(member.programId), member, points, now);
  },
  manualTier: (member, _args, { clock }) => (member.manualTierId && manualApplies(member, clock.now()) ? { tierId: member.manualTierId, until: member.manualUntil } : null),
  tierHistory: (member, _args, { loaders }) => loaders.tierChangesByMemberId.load(member.id),
  statusHistory: (member, _args, { loaders }) => loaders.statusChangesByMemberId.load(member.id),
  consents: (member, _args, { loaders }) => loaders.consentsByMemberId.load(member.id),
  consentHistory: (member, _args, { loaders }) => loaders.consentChangesByMemberId.load(member.id),
  groups: (member, _args, { loaders }) => loaders.groupsByMemberId.load(member.id),
  referrals: (member, _args, { loaders }) => loaders.referralsByReferrerId.load(member.id),
  referredBy: (member, _args, { loaders }) => loaders.referralByRefereeId.load(member.id),
};
