import type { DataSource } from 'typeorm';
import { isUuid } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { offerColumns, type OfferRow } from '../entities';
import { offerRelevance, type MemberFacts, type OfferAvailability } from '../domain/offers';
import type { PartnerStatus } from '../domain/partners';

/** An offer as a member is shown it. */
export interface MemberOfferValue {
  offer: OfferRow;
  availability: OfferAvailability;
  partnerName: string | null;
}

/** What Member.offers needs per member: their facts (for the policy check) and what they are shown. */
export interface MemberOffers {
  member: MemberFacts | null;
  offers: MemberOfferValue[];
}

type Candidate = OfferRow & { partnerName: string | null; partnerStatus: PartnerStatus | null };

/** Only what could pass offerRelevance: published and inside visibility now (the partial index offers_visible). */
const CANDIDATES = `o.status = 'PUBLISHED' AND o.visible_from <= $2 AND o.visible_until > $2`;
const CANDIDATE_COLUMNS = `${offerColumns}, p.name AS "partnerName", p.status AS "partnerStatus"`;

/**
 * Offers for a batch of members (one batch per request through the loader), in ONE statement:
 * the members' rows of this subgraph's member-snapshot projection (the subgraph kit's table, kept
 * from members' events) joined with the published, visible offers of their programs and those
 * offers' partners. Members the projection does not hold yet (enrolled a moment ago) are read
 * through from members by the kit's directory, with a second statement for their programs'
 * offers: only on that rare path. SQL only narrows to what could pass; who is shown what is
 * `offerRelevance`'s decision.
 */
export async function offersForMembers(db: DataSource, members: MemberDirectory, ids: readonly string[], now: Date): Promise<MemberOffers[]> {
  const rows = (await db.query(
    `SELECT s.member_id AS "memberId", s.program_id AS "memberProgramId", s.status AS "memberStatus", s.tier_id::text AS "memberTierId", s.partner_marketing AS "memberPartnerMarketing",
            ${CANDIDATE_COLUMNS}
     FROM member_snapshots s
     LEFT JOIN offers o ON o.program_id = s.program_id AND s.status = 'ACTIVE' AND ${CANDIDATES}
     LEFT JOIN partners p ON p.id = o.partner_id
     WHERE s.member_id = ANY($1::uuid[])`,
    [ids.filter(isUuid), now],
  )) as (Candidate & { memberId: string; memberProgramId: string; memberStatus: MemberFacts['status']; memberTierId: string | null; memberPartnerMarketing: boolean })[];

  const facts = new Map<string, MemberFacts>();
  const candidates = new Map<string, Candidate[]>();
  for (const { memberId, memberProgramId, memberStatus, memberTierId, memberPartnerMarketing, ...offer } of rows) {
    facts.set(memberId, { id: memberId, programId: memberProgramId, status: memberStatus, tierId: memberTierId, partnerMarketing: memberPartnerMarketing });
    const list = candidates.get(memberId) ?? [];
    if (offer.id) list.push(offer);
    candidates.set(memberId, list);
  }

  const missing = [...new Set(ids.filter((id) => isUuid(id) && !facts.has(id)))];
  if (missing.length) {
    const read = (await members(missing)).filter((m) => m !== null);
    const programIds = [...new Set(read.filter((m) => m.status === 'ACTIVE').map((m) => m.programId))];
    const offers = programIds.length
      ? ((await db.query(`SELECT ${CANDIDATE_COLUMNS} FROM offers o LEFT JOIN partners p ON p.id = o.partner_id WHERE o.program_id = ANY($1::uuid[]) AND ${CANDIDATES}`, [programIds, now])) as Candidate[])
      : [];
    for (const m of read) {
      facts.set(m.id, { id: m.id, programId: m.programId, status: m.status, tierId: m.tierId, partnerMarketing: m.partnerMarketing });
      candidates.set(m.id, offers.filter((o) => o.programId === m.programId));
    }
  }

  return ids.map((id) => {
    const member = facts.get(id) ?? null;
    if (!member) return { member: null, offers: [] };
    // In no order: the resolver pages them (pageOfShown).
    const offers = (candidates.get(id) ?? []).flatMap(({ partnerName, partnerStatus, ...offer }) => {
      const availability = offerRelevance(offer, member, partnerStatus, now);
      return availability ? [{ offer, availability, partnerName }] : [];
    });
    return { member, offers };
  });
}
