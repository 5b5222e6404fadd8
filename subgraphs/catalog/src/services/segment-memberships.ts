import { analyticsEvents } from '@loyalty-graph/shared/contracts';
import { consume, type Consumption } from '@loyalty-graph/shared/events';
import type { DataSource } from 'typeorm';

/**
 * Which analytics segments each member is in, kept from SegmentMembershipChanged in catalog's own
 * `segment_memberships`, for catalogs targeted at segments. Each row keeps the latest event by the
 * member's event order (aggregateVersion: analytics writes a member's events in commit order), so a
 * redelivery, a rewind or an older event arriving late changes nothing.
 */
export class SegmentMemberships {
  constructor(private readonly db: DataSource) {}

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
        },
        { does: "keeps each member's segment membership (the latest event per member and segment), for the catalogs targeted at segments" },
      ),
    ];
  }

  /** Of `segmentIds`, those the member is in now (as last told); a member never told about is in none. */
  async of(memberId: string, programId: string, segmentIds: readonly string[]): Promise<string[]> {
    if (!segmentIds.length) return [];
    const rows = (await this.db.query(`SELECT segment_id::text AS id FROM segment_memberships WHERE member_id = $1 AND program_id = $2 AND segment_id = ANY($3::uuid[]) AND member`, [
      memberId,
      programId,
      [...segmentIds],
    ])) as { id: string }[];
    return rows.map((r) => r.id);
  }
}
