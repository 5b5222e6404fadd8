import type { Resolvers } from '../generated/resolvers';
import { EarningRulesBacktest } from './backtest';
import { Charity } from './charity';
import { EarningRuleSet } from './earning-rule-set';
import { JournalEntry } from './journal-entry';
import { JournalLine } from './journal-line';
import { LedgerAccount } from './ledger-account';
import { Member } from './member';
import { MemberPoints } from './member-points';
import { Mutation } from './mutation';
import { Partner } from './partner';
import { PartnerFunding } from './partner-funding';
import { PointsHold } from './points-hold';
import { Program } from './program';
import { ProgramPointsTotals } from './program-points-totals';
import { Purchase } from './purchase';
import { PurchaseImport } from './purchase-import';
import { PurchaseReturn } from './purchase-return';
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
  Partner,
  PartnerFunding,
  PurchaseImport,
  EarningRulesBacktest,
};
