import type { Resolvers } from '../generated/resolvers';
import { Catalog } from './catalog';
import { Complaint } from './complaint';
import { Member } from './member';
import { Mutation } from './mutation';
import { RewardOrder, RewardOrderLine } from './order';
import { Program } from './program';
import { Query } from './query';
import { Reward, RewardVersion } from './reward';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  Mutation,
  Program,
  Member,
  Reward,
  RewardVersion,
  Catalog,
  RewardOrder,
  RewardOrderLine,
  Complaint,
};
