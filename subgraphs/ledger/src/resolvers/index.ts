import type { Resolvers } from '../generated/resolvers';
import { JournalEntry, JournalLine, LedgerAccount } from './journal';
import { Member, MemberPoints } from './member';
import { Mutation } from './mutation';
import { Program, ProgramPointsTotals } from './program';
import { Charity, EarningRuleSet, PointsHold, Purchase, PurchaseReturn } from './purchase';
import { Query } from './query';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  Mutation,
  Member,
  MemberPoints,
  Program,
  ProgramPointsTotals,
  JournalEntry,
  JournalLine,
  LedgerAccount,
  Purchase,
  PointsHold,
  EarningRuleSet,
  PurchaseReturn,
  Charity,
};
