import { forbidden } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadProgram } from '../domain/policy';

export const Program: ProgramResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    if (!canReadProgram(viewer, id)) throw forbidden('You can only see your own program');
    return loaders.programById.load(id);
  },
  pointValue: (program) => ({ amount: program.pointValueAmount, currency: program.pointValueCurrency }),
  tiers: (program, _args, { loaders }) => loaders.tiersByProgramId.load(program.id),
  tierRules: async (program, _args, { loaders }) => (await loaders.settingsByProgramId.load(program.id)).tiers,
  referralRules: async (program, _args, { loaders }) => (await loaders.settingsByProgramId.load(program.id)).referrals,
};
