import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Birth dates and languages became an event (MemberProfileChanged) after members had given them.
 * Analytics' segments would never see those members' until their next change, so this announces
 * each member who has either once (the outbox's trigger gives it the member's next aggregate
 * version). Written as the contract's payload by hand (a migration cannot call `emit`); the
 * members tests check it parses. On a new database nothing is written.
 */
export class ProfilesAnnounced1797010000001 implements MigrationInterface {
  name = 'ProfilesAnnounced1797010000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at)
      SELECT 'Member', m.id, 'MemberProfileChanged', 1,
             jsonb_build_object(
               'programId', m.program_id,
               'memberId', m.id,
               'birthDate', to_char(m.birth_date, 'YYYY-MM-DD'),
               'preferredLanguage', m.preferred_language,
               'changedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
             now()
      FROM members m
      WHERE m.birth_date IS NOT NULL OR m.preferred_language IS NOT NULL
      ORDER BY m.id`);
  }

  async down(): Promise<void> {
    // Events once announced stay announced: consumers may have applied them.
  }
}
