import type { Resolvers } from '../generated/resolvers';
import { ManualTierAssignment } from './manual-tier-assignment';
import { Member } from './member';
import { MemberGroup } from './member-group';
import { MemberPayload } from './member-payload';
import { Mutation } from './mutation';
import { Program } from './program';
import { Query } from './query';
import { Referral } from './referral';
import { Tier } from './tier';
import { TierChange } from './tier-change';
import { TierProgress } from './tier-progress';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
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
  MemberPayload,
};
