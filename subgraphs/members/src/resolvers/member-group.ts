import { forbidden } from '@loyalty-graph/shared';
import type { MemberGroupResolvers } from '../generated/resolvers';

export const MemberGroup: MemberGroupResolvers = {
  async __resolveReference({ id }, { viewer, loaders, services }) {
    const group = await loaders.groupById.load(id);
    if (group && !services.directory.canManageMembers(viewer, group.programId)) throw forbidden('You cannot see this group');
    return group;
  },
  program: async (group, _args, { loaders }) => (await loaders.programById.load(group.programId))!,
  members: (group, page, { services }) => services.directory.groupMembers(group, page),
};
