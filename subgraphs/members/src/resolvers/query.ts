import { forbidden, rethrowInput } from '@loyalty-graph/shared';
import type { QueryResolvers } from '../generated/resolvers';
import { canManageMembers, canReadMember, canReadProgram } from '../domain/policy';

export const Query: QueryResolvers = {
  // The kit has already tied the token's subject to its member (docs/identity.md).
  me: (_parent, _args, { viewer, loaders }) => (viewer.memberId ? loaders.memberById.load(viewer.memberId) : null),
  async program(_parent, { id }, { viewer, loaders }) {
    if (!canReadProgram(viewer, id)) throw forbidden('You can only see your own program');
    return loaders.programById.load(id);
  },
  programs: (_parent, args, { viewer, services }) => services.directory.programs(viewer, args),
  async member(_parent, { id }, { viewer, loaders }) {
    const member = await loaders.memberById.load(id);
    if (member && !canReadMember(viewer, member)) throw forbidden('You cannot see this member');
    return member;
  },
  members: (_parent, { programId, status, ...page }, { viewer, services }) => services.directory.members(viewer, programId, status, page),
  async memberByIdentifier(_parent, { programId, type, value }, { viewer, services, loaders }) {
    const found = await rethrowInput(() => services.directory.memberByIdentifier(viewer, programId, type, value));
    if (!found) return null;
    // The lookup already read the tier: the cashier's screen needs no second query.
    if (found.tier) loaders.tierById.prime(found.tier.id, found.tier);
    return found.member;
  },
  memberIdsByIdentifiers: (_parent, { programId, identifiers }, { viewer, services }) =>
    rethrowInput(() => services.directory.memberIdsByIdentifiers(viewer, programId, identifiers)),
  partnerMemberLookup: (_parent, { identifier }, { viewer, services }) => rethrowInput(() => services.directory.partnerMemberLookup(viewer, identifier.type, identifier.value)),
  async memberGroup(_parent, { id }, { viewer, loaders }) {
    const group = await loaders.groupById.load(id);
    if (group && !canManageMembers(viewer, group.programId)) throw forbidden('You cannot see this group');
    return group;
  },
  memberGroups: (_parent, { programId, ...page }, { viewer, services }) => services.directory.groups(viewer, programId, page),
};
