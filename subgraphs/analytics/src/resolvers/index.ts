import type { Resolvers } from '../generated/resolvers';
import { Mutation } from './kpi-mutations';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  Program,
  ProgramKpiBucket,
  Mutation,
};
