import type { Resolvers } from '../generated/resolvers';
import { Member } from './member';
import { Mutation } from './mutation';
import { MemberOffer, Offer } from './offer';
import { Partner, PartnerAgreement } from './partner';
import { PartnerApiClient } from './partner-api-client';
import { Program } from './program';
import { Query } from './query';

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
  Offer,
  MemberOffer,
  Member,
};
