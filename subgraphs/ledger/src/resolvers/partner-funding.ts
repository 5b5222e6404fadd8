import type { PartnerFundingResolvers } from '../generated/resolvers';

const big = (n: number | null) => (n === null ? null : BigInt(n));

export const PartnerFunding: PartnerFundingResolvers = {
  prepaidPoints: (state) => BigInt(state.prepaidPoints),
  netIssuedPoints: (state) => BigInt(state.netIssued),
  settledPoints: (state) => BigInt(state.settled),
  remainingPoints: (state) => big(state.remaining),
};
