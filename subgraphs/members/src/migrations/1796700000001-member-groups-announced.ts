import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group membership became an event (MemberJoinedGroup, MemberLeftGroup) after members were
 * already in groups. Consumers' projections hold those members' groups as unknown (null) and would
 * learn them only at each member's next group change, so this announces every membership there is
 * as a MemberJoinedGroup, in the order they were joined, each with the member's groups up to it:
 * the outbox's trigger gives each its member's next aggregate version, and consumers apply them
 * like any other event. Written as the contract's payload by hand (a migration cannot call `emit`);
 * the members tests check it parses. On a new database there are no memberships and nothing is
 * written.
 */
export class MemberGroupsAnnounced1796700000001 implements MigrationInterface {
  name = 'MemberGroupsAnnounced1796700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at)
      SELECT 'Member', member_id, 'MemberJoinedGroup', 1,
             jsonb_build_object('programId', program_id, 'memberId', member_id, 'groupId', group_id, 'groupIds', to_jsonb(group_ids), 'at', at),
             now()
      FROM (
        SELECT member_id, program_id, group_id, joined_at,
               to_char(joined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
               (SELECT array_agg(g ORDER BY g) FROM unnest(so_far) AS g) AS group_ids
        FROM (
          SELECT gm.member_id, m.program_id, gm.group_id, gm.joined_at,
                 array_agg(gm.group_id) OVER (PARTITION BY gm.member_id ORDER BY gm.joined_at, gm.group_id ROWS UNBOUNDED PRECEDING) AS so_far
          FROM group_memberships gm
          JOIN members m ON m.id = gm.member_id
        ) joined
      ) announced
      ORDER BY member_id, joined_at, group_id`);
  }

  async down(): Promise<void> {
    // Events once announced stay announced: consumers may have applied them.
  }
}
