import { forbidden, formatMoneyAmount } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadProgram } from '../domain/policy';

export const Program: ProgramResolvers = {
  async __resolveReference({ id }, { viewer, loaders }) {
    if (!canReadProgram(viewer, id)) throw forbidden('You can only see your own program');
    return loaders.programById.load(id);
  },
  // numeric(18,8) pads to eight decimals: shown at the currency's, plus any that are not zeros.
  pointValue: (program) => ({ amount: formatMoneyAmount(program.pointValueAmount, program.pointValueCurrency), currency: program.pointValueCurrency }),
  tiers: (program, _args, { loaders }) => loaders.tiersByProgramId.load(program.id),
  tierRules: async (program, _args, { loaders }) => (await loaders.settingsByProgramId.load(program.id)).tiers,
  referralRules: async (program, _args, { loaders }) => (await loaders.settingsByProgramId.load(program.id)).referrals,
};
