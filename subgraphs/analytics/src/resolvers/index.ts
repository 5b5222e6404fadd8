import type { Resolvers } from '../generated/resolvers';
import { ProgramMoney } from './money';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  // The money fields (liability, breakage, deferred revenue, costs) live in their own file, named one by one.
  Program: {
    ...Program,
    liability: ProgramMoney.liability,
    breakageEstimate: ProgramMoney.breakageEstimate,
    deferredRevenue: ProgramMoney.deferredRevenue,
    programCosts: ProgramMoney.programCosts,
  },
  ProgramKpiBucket,
};
