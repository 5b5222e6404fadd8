import type { Resolvers } from '../generated/resolvers';
import { Experiment, ExperimentMutation, ExperimentProgram, ExperimentQuery, ProgramHoldout } from './experiments';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query: { ...Query, ...ExperimentQuery },
  Program: { ...Program, ...ExperimentProgram },
  ProgramKpiBucket,
  // Experiments, the holdout and the business case (resolvers/experiments.ts).
  Mutation: ExperimentMutation,
  Experiment,
  ProgramHoldout,
};
