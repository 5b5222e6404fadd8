import type { MemberOfferResolvers, OfferResolvers } from '../generated/resolvers';

export const Offer: OfferResolvers = {
  // Members owns programs: the gateway fetches any other Program field from there.
  program: (offer) => ({ id: offer.programId }),
  // Reached only by who may read the offer: its program's staff or its own partner.
  partner: (offer, _args, { loaders }) => (offer.partnerId ? loaders.partnerById.load(offer.partnerId) : null),
};

export const MemberOffer: MemberOfferResolvers = {
  id: (shown) => shown.offer.id,
  kind: (shown) => shown.offer.kind,
  title: (shown) => shown.offer.title,
  description: (shown) => shown.offer.description,
  partnerName: (shown) => shown.partnerName,
  availability: (shown) => shown.availability,
  validFrom: (shown) => shown.offer.validFrom,
  validUntil: (shown) => shown.offer.validUntil,
};
