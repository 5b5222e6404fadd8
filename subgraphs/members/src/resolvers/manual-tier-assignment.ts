import type { ManualTierAssignmentResolvers } from '../generated/resolvers';

/** A manual tier assignment while it still binds. */
export interface ManualTierView {
  tierId: string;
  until: Date | null;
}

export const ManualTierAssignment: ManualTierAssignmentResolvers = {
  tier: async (assignment, _args, { loaders }) => (await loaders.tierById.load(assignment.tierId))!,
};
