import { forbidden } from '@loyalty-graph/shared';
import type { MemberGroupResolvers } from '../generated/resolvers';
import { canManageMembers } from '../domain/policy';

export const MemberGroup: MemberGroupResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    const group = await loaders.groupById.load(id);
    if (group && !canManageMembers(viewer, group.programId)) throw forbidden('You cannot see this group');
    return group;
  },
  program: async (group, _args, { loaders }) => (await loaders.programById.load(group.programId))!,
  members: (group, page, { services }) => services.directory.groupMembers(group, page),
};
