import { analyticsEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption } from '@loyalty-graph/shared/events';

/**
 * Keeps what analytics says about members in partners' own tables, for Member.offers: segment
 * membership (`segment_memberships`) and experiment assignments (`experiment_assignments`, and
 * `experiment_offers`: every offer an assignment named). Each row keeps the member's latest event by
 * the member's event order (the envelope's aggregateVersion: analytics writes a member's events in
 * commit order), so a redelivery, a rewind or an older event arriving late changes nothing.
 */
export class AnalyticsTargeting {
  consumptions(): Consumption[] {
    return [
      consume(
        analyticsEvents,
        {
          SegmentMembershipChanged: async (tx, e) => {
            const { programId, memberId, segmentId, member, at } = e.payload;
            await tx.query(
              `INSERT INTO segment_memberships (member_id, segment_id, program_id, member, changed_at, member_version, event_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (member_id, segment_id) DO UPDATE
                 SET program_id = EXCLUDED.program_id, member = EXCLUDED.member, changed_at = EXCLUDED.changed_at, member_version = EXCLUDED.member_version, event_id = EXCLUDED.event_id
                 WHERE segment_memberships.member_version < EXCLUDED.member_version`,
              [memberId, segmentId, programId, member, at, e.aggregateVersion, e.id],
            );
          },
          ExperimentVariantAssigned: async (tx, e) => {
            const { programId, memberId, experimentId, variantKey, holdout, offerIds, startsAt, endsAt } = e.payload;
            // The offer is an experiment's from the first time it is named, even by an older event.
            if (offerIds.length) {
              await tx.query(
                `INSERT INTO experiment_offers (offer_id, program_id, experiment_id, first_named_at)
                 SELECT DISTINCT id, $2::uuid, $3::uuid, $4::timestamptz FROM unnest($1::uuid[]) AS t(id)
                 ON CONFLICT DO NOTHING`,
                [offerIds, programId, experimentId, e.occurredAt],
              );
            }
            await tx.query(
              `INSERT INTO experiment_assignments (member_id, experiment_id, program_id, variant_key, holdout, offer_ids, starts_at, ends_at, member_version, event_id)
               VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8, $9, $10)
               ON CONFLICT (member_id, experiment_id) DO UPDATE
                 SET program_id = EXCLUDED.program_id, variant_key = EXCLUDED.variant_key, holdout = EXCLUDED.holdout, offer_ids = EXCLUDED.offer_ids,
                     starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, member_version = EXCLUDED.member_version, event_id = EXCLUDED.event_id
                 WHERE experiment_assignments.member_version < EXCLUDED.member_version`,
              [memberId, experimentId, programId, variantKey, holdout, offerIds, startsAt, endsAt, e.aggregateVersion, e.id],
            );
          },
        },
        { does: "keeps each member's segment membership and experiment assignments (latest event per member and segment or experiment), for the offers targeted at segments and experiments" },
      ),
    ];
  }
}
