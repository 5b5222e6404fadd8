import type { Resolvers } from '../generated/resolvers';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';
import { Member } from './member';
import { ProgramSegments, Segment, SegmentMutations } from './segments';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  Program: { ...Program, ...ProgramSegments },
  ProgramKpiBucket,
  Member,
  Segment,
  Mutation: { ...SegmentMutations },
};
