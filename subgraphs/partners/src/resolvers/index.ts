import type { Resolvers } from '../generated/resolvers';
import { Member } from './member';
import { Mutation } from './mutation';
import { MemberOffer, Offer } from './offer';
import { Partner, PartnerAgreement } from './partner';
import { PartnerApiClient } from './partner-api-client';
import { PartnerPrepaidBlock } from './partner-prepaid-block';
import { Program } from './program';
import { Query } from './query';
import { SettlementItem, SettlementLine, SettlementPayment, SettlementStatement } from './settlement-statement';
import { WebhookEndpoint, WebhookMessage } from './webhook-endpoint';
import { WebhookMutation } from './webhook-mutations';
import { WebhookQuery } from './webhook-queries';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  // The webhook fields live in their own files; `disjoint` refuses a field resolved in both.
  Query: disjoint('Query', Query, WebhookQuery),
  Mutation: disjoint('Mutation', Mutation, WebhookMutation),
  Program,
  Partner,
  PartnerAgreement,
  PartnerApiClient,
  PartnerPrepaidBlock,
  SettlementStatement,
  SettlementLine,
  SettlementItem,
  SettlementPayment,
  WebhookEndpoint,
  WebhookMessage,
  Offer,
  MemberOffer,
  Member,
};

/** Two resolver maps of one type as one; a field in both is an error at start, never a silent winner. */
function disjoint<T extends object>(type: string, a: T, b: T): T {
  const clash = Object.keys(b).find((field) => field in a);
  if (clash) throw new Error(`${type}.${clash} is resolved twice`);
  return Object.assign({}, a, b);
}
