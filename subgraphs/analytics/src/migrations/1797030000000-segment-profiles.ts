import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The last profile computed per segment (services/segment-profile.ts): a profile is a pass over
 * every member's state in the segment (half a second for 100,000 members of a 1,000,000-member
 * program), served again for a minute instead of computed per request.
 */
export class SegmentProfiles1797030000000 implements MigrationInterface {
  name = 'SegmentProfiles1797030000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE segment_profiles (
        segment_id uuid PRIMARY KEY REFERENCES segments (id) ON DELETE CASCADE,
        profile jsonb NOT NULL,
        -- the segment's updated_at the profile was computed under: new rules make it stale at once
        segment_updated_at timestamptz NOT NULL,
        computed_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE segment_profiles`);
  }
}
