import type { DataSource } from 'typeorm';
import { isUuid } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import { offerColumns, type OfferRow } from '../entities';
import { offerRelevance, segmentsOf, type MemberFacts, type OfferAvailability, type OfferExperiments } from '../domain/offers';
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

type Candidate = OfferRow & { partnerName: string | null; partnerStatus: PartnerStatus | null } & Targeting;

/** What analytics' events say about one offer for one member (partners' own tables, kept by AnalyticsTargeting). */
interface Targeting {
  /** The offer's segments the member is in now (as last told). */
  memberSegmentIds: string[] | null;
  /** Some assignment of the offer's program named the offer. */
  experimentTargeted: boolean | null;
  /** The member's assignments (in the offer's program) whose variant names the offer. */
  assignments: { holdout: boolean; startsAt: string; endsAt: string | null }[] | null;
}

/** Only what could pass offerRelevance: published and inside visibility now (the partial index offers_visible). */
const CANDIDATES = `o.status = 'PUBLISHED' AND o.visible_from <= $2 AND o.visible_until > $2`;
const CANDIDATE_COLUMNS = `${offerColumns}, p.name AS "partnerName", p.status AS "partnerStatus"`;
/**
 * Per member (s.member_id) and offer (o): the targeting facts, as subqueries of the same statement
 * (each an index lookup by the tables' primary keys), so Member.offers stays one statement.
 */
const TARGETING_COLUMNS = `
  ARRAY(SELECT sm.segment_id::text FROM segment_memberships sm WHERE sm.member_id = s.member_id AND sm.segment_id = ANY(o.segment_ids) AND sm.program_id = o.program_id AND sm.member) AS "memberSegmentIds",
  EXISTS (SELECT 1 FROM experiment_offers eo WHERE eo.offer_id = o.id AND eo.program_id = o.program_id) AS "experimentTargeted",
  (SELECT json_agg(json_build_object('holdout', ea.holdout, 'startsAt', ea.starts_at, 'endsAt', ea.ends_at)) FROM experiment_assignments ea
    WHERE ea.member_id = s.member_id AND ea.program_id = o.program_id AND o.id = ANY(ea.offer_ids)) AS "assignments"`;

/**
 * Offers for a batch of members (one batch per request through the loader), in ONE statement:
 * the members' rows of this subgraph's member-snapshot projection (the subgraph kit's table, kept
 * from members' events) joined with the published, visible offers of their programs and those
 * offers' partners. Members the projection does not hold yet (enrolled a moment ago) are read
 * through from members by the kit's directory, with a second statement for their programs'
 * offers: only on that rare path. Each (member, offer) row carries what analytics' events said
 * (segments, experiment assignments: TARGETING_COLUMNS). SQL only narrows to what could pass; who
 * is shown what is `offerRelevance`'s decision.
 */
export async function offersForMembers(db: DataSource, members: MemberDirectory, ids: readonly string[], now: Date): Promise<MemberOffers[]> {
  const rows = (await db.query(
    `SELECT s.member_id AS "memberId", s.program_id AS "memberProgramId", s.status AS "memberStatus", s.tier_id::text AS "memberTierId", s.partner_marketing AS "memberPartnerMarketing",
            ${CANDIDATE_COLUMNS}, ${TARGETING_COLUMNS}
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
    const active = read.filter((m) => m.status === 'ACTIVE');
    const offers = active.length
      ? ((await db.query(
          // Per (member, program) pair, so the targeting facts are each member's own.
          `SELECT s.member_id AS "memberId", ${CANDIDATE_COLUMNS}, ${TARGETING_COLUMNS}
           FROM unnest($1::uuid[], $3::uuid[]) AS s(member_id, program_id)
           JOIN offers o ON o.program_id = s.program_id AND ${CANDIDATES}
           LEFT JOIN partners p ON p.id = o.partner_id`,
          [active.map((m) => m.id), now, active.map((m) => m.programId)],
        )) as (Candidate & { memberId: string })[])
      : [];
    for (const m of read) {
      facts.set(m.id, { id: m.id, programId: m.programId, status: m.status, tierId: m.tierId, partnerMarketing: m.partnerMarketing });
      candidates.set(m.id, offers.filter((o) => o.memberId === m.id).map(({ memberId: _, ...offer }) => offer));
    }
  }

  return ids.map((id) => {
    const member = facts.get(id) ?? null;
    if (!member) return { member: null, offers: [] };
    // In no order: the resolver pages them (pageOfShown).
    const offers = (candidates.get(id) ?? []).flatMap(({ partnerName, partnerStatus, memberSegmentIds, experimentTargeted, assignments, ...offer }) => {
      const experiments: OfferExperiments = {
        targeted: experimentTargeted === true,
        assignments: (assignments ?? []).map((a) => ({ holdout: a.holdout, startsAt: new Date(a.startsAt), endsAt: a.endsAt === null ? null : new Date(a.endsAt) })),
      };
      const availability = offerRelevance(offer, member, partnerStatus, now, segmentsOf(memberSegmentIds ?? []), experiments);
      return availability ? [{ offer, availability, partnerName }] : [];
    });
    return { member, offers };
  });
}
