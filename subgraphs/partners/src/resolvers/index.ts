import type { Resolvers } from '../generated/resolvers';
import { Mutation } from './mutation';
import { Partner, PartnerAgreement } from './partner';
import { PartnerApiClient } from './partner-api-client';
import { PartnerPrepaidBlock } from './partner-prepaid-block';
import { Program } from './program';
import { Query } from './query';
import { SettlementItem, SettlementLine, SettlementPayment, SettlementStatement } from './settlement-statement';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query,
  Mutation,
  Program,
  Partner,
  PartnerAgreement,
  PartnerApiClient,
  PartnerPrepaidBlock,
  SettlementStatement,
  SettlementLine,
  SettlementItem,
  SettlementPayment,
};
