import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consents became an event (ConsentsChanged) after members had already decided. Consumers'
 * member snapshots would hold those members as "not consented" until their next change, so this
 * announces every member's current set once, as a ConsentsChanged (the outbox's trigger gives it
 * the member's next aggregate version). Written as the contract's payload by hand (a migration
 * cannot call `emit`); the members tests check it parses. On a new database nothing is written.
 */
export class ConsentsAnnounced1796820000001 implements MigrationInterface {
  name = 'ConsentsAnnounced1796820000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at)
      SELECT 'Member', m.id, 'ConsentsChanged', 1,
             jsonb_build_object(
               'programId', m.program_id,
               'memberId', m.id,
               'consents', jsonb_agg(jsonb_build_object('channel', c.channel, 'purpose', c.purpose, 'granted', c.granted) ORDER BY c.channel, c.purpose),
               'changedAt', to_char(max(c.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
             now()
      FROM members m JOIN consents c ON c.member_id = m.id
      GROUP BY m.id, m.program_id
      ORDER BY m.id`);
  }

  async down(): Promise<void> {
    // Events once announced stay announced: consumers may have applied them.
  }
}
