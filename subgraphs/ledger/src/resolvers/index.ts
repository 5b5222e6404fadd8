import { scalarResolvers } from '@loyalty-graph/shared';
import type { Resolvers } from '../generated/resolvers';
import { JournalEntry, JournalLine, LedgerAccount } from './journal';
import { Member, MemberPoints } from './member';
import { Mutation } from './mutation';
import { Program, ProgramPointsTotals } from './program';
import { Charity, EarningRuleSet, PointsHold, Purchase, PurchaseReturn } from './purchase';
import { Query } from './query';

/** Joined with explicit keys: spreading resolver maps silently drops duplicates. */
export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Decimal: scalarResolvers.Decimal,
  BigInt: scalarResolvers.BigInt,
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
  ScheduledJob: { everySeconds: (job) => Math.round(job.everyMs / 1000) },
};
