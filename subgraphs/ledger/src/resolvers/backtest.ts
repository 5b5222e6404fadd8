import { rethrowInput } from '@loyalty-graph/shared';
import type { EarningRulesBacktestResolvers, ProgramResolvers } from '../generated/resolvers';

/** Program.backtestEarningRules: the point value and the ladder come from members through @requires. */
export const backtestEarningRules: NonNullable<ProgramResolvers['backtestEarningRules']> = (program, { input }, { viewer, services }) => {
  if (!program.pointValue || !program.tiers) throw new Error('backtestEarningRules needs Program.pointValue and Program.tiers (@requires)');
  const { pointValue, tiers } = program;
  return rethrowInput(() => services.backtests.run(viewer, program.id, input, { pointValue, tiers }));
};

export const EarningRulesBacktest: EarningRulesBacktestResolvers = {
  pointsDifference: (result) => BigInt(result.draftPoints - result.actualPoints),
  draftLadder: (result) => result.draftLadderGiven,
};
