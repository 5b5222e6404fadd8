import { scalarResolvers } from '@loyalty-graph/shared';
import type { Resolvers } from '../generated/resolvers';
import { ManualTierAssignment, Member, Referral, TierProgress } from './member';
import { MemberGroup } from './member-group';
import { Mutation } from './mutation';
import { Program } from './program';
import { Query } from './query';
import { Tier, TierChange } from './tier';

/** Joined with explicit keys: spreading resolver maps silently drops duplicates. */
export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Decimal: scalarResolvers.Decimal,
  BigInt: scalarResolvers.BigInt,
  Query,
  Mutation,
  Program,
  Tier,
  TierChange,
  Member,
  MemberGroup,
  TierProgress,
  ManualTierAssignment,
  Referral,
  ScheduledJob: { everySeconds: (job) => Math.round(job.everyMs / 1000) },
};
