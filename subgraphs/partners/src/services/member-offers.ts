import type { DataSource } from 'typeorm';
import type { MemberDirectory, MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { offerColumns, type OfferRow } from '../entities';
import { LIMITS } from '../domain/limits';
import { offerRelevance, type OfferAvailability } from '../domain/offers';
import type { PartnerStatus } from '../domain/partners';

/** An offer as a member is shown it. */
export interface MemberOfferValue {
  offer: OfferRow;
  availability: OfferAvailability;
  partnerName: string | null;
}

/** What Member.offers needs per member: the snapshot (for the policy check) and what they are shown. */
export interface MemberOffers {
  member: MemberSnapshot | null;
  offers: MemberOfferValue[];
}

const ORDER: Record<OfferAvailability, number> = { VALID_NOW: 0, NOT_YET_VALID: 1, ENDED: 2 };

/**
 * Offers for a batch of members (one per request through the loader): their snapshots (one
 * statement, members read through only when the projection does not hold them yet), then every
 * published offer still visible in their programs, with the partner's name and status (one
 * statement whatever the number of members). The rules of who sees what are `offerRelevance`'s;
 * SQL only narrows to what could pass them.
 */
export async function offersForMembers(db: DataSource, members: MemberDirectory, ids: readonly string[], now: Date): Promise<MemberOffers[]> {
  const snapshots = await members(ids);
  const programIds = [...new Set(snapshots.flatMap((m) => (m && m.status === 'ACTIVE' ? [m.programId] : [])))];
  const rows = programIds.length
    ? ((await db.query(
        `SELECT ${offerColumns}, p.name AS "partnerName", p.status AS "partnerStatus"
         FROM offers o LEFT JOIN partners p ON p.id = o.partner_id
         WHERE o.program_id = ANY($1::uuid[]) AND o.status = 'PUBLISHED' AND o.visible_from <= $2 AND o.visible_until > $2`,
        [programIds, now],
      )) as (OfferRow & { partnerName: string | null; partnerStatus: PartnerStatus | null })[])
    : [];
  return snapshots.map((member) => {
    if (!member) return { member: null, offers: [] };
    const offers = rows
      .flatMap(({ partnerName, partnerStatus, ...offer }) => {
        const availability = offerRelevance(offer, member, partnerStatus, now);
        return availability ? [{ offer, availability, partnerName }] : [];
      })
      // Usable now first, then pre-sales, then ended ones; within each, ending soonest first.
      .sort((a, b) => ORDER[a.availability] - ORDER[b.availability] || a.offer.validUntil.getTime() - b.offer.validUntil.getTime() || (a.offer.id < b.offer.id ? -1 : 1))
      .slice(0, LIMITS.memberOffers);
    return { member, offers };
  });
}
