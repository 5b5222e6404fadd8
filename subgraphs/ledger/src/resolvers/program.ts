import { forbidden } from '@loyalty-graph/shared';
import type { ProgramResolvers } from '../generated/resolvers';
import { canReadCharities, canReadProgramLedger } from '../domain/policy';
import { backtestEarningRules } from './backtest';

export interface ProgramRef {
  id: string;
  pointValue?: { amount: string; currency: string };
  /** From members through @requires, for backtests. */
  tiers?: { id: string; name: string; rank: number; qualifyingThreshold: number }[];
}

export const Program: ProgramResolvers = {
  __resolveReference: (ref) => ref,
  async ledgerSettings(program, _args, { viewer, services }) {
    if (!canReadProgramLedger(viewer, program.id)) throw forbidden('You can see only your own program');
    return services.programs.settings(program.id);
  },
  async earningRules(program, _args, { viewer, services, clock }) {
    if (!canReadProgramLedger(viewer, program.id)) throw forbidden('You can see only your own program');
    return services.programs.rulesAt(program.id, clock.now());
  },
  async earningRuleHistory(program, _args, { viewer, services }) {
    if (!canReadProgramLedger(viewer, program.id)) throw forbidden('You can see only your own program');
    return services.programs.ruleHistory(program.id);
  },
  async charities(program, _args, { viewer, services }) {
    if (!canReadCharities(viewer, program.id)) throw forbidden('You can see only your own program');
    return services.transfers.charities(program.id);
  },
  async pointsTotals(program, _args, { viewer, services }) {
    if (!canReadProgramLedger(viewer, program.id)) throw forbidden('You can see only your own program');
    // pointValue comes from the members subgraph through @requires.
    if (!program.pointValue) throw new Error('pointsTotals needs Program.pointValue (@requires)');
    return { ...(await services.programs.totals(program.id)), pointValue: program.pointValue };
  },
  backtestEarningRules: backtestEarningRules,
};
