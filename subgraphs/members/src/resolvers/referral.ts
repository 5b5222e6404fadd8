import type { ReferralResolvers } from '../generated/resolvers';
import { canReadMember } from '../domain/policy';

/** A friend's profile is not the referrer's to read: each side resolves only for viewers who may see that member. */
export const Referral: ReferralResolvers = {
  referrer: async (referral, _args, { viewer, loaders }) => {
    const member = await loaders.memberById.load(referral.referrerId);
    return member && canReadMember(viewer, member) ? member : null;
  },
  referee: async (referral, _args, { viewer, loaders }) => {
    const member = await loaders.memberById.load(referral.refereeId);
    return member && canReadMember(viewer, member) ? member : null;
  },
};
