import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Catalogs for analytics' segments: the catalog's list of segments, and each member's membership
 * as analytics last told it (SegmentMembershipChanged), in catalog's own table (it never reads
 * analytics').
 */
export class CatalogSegments1796610000000 implements MigrationInterface {
  name = 'CatalogSegments1796610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE catalogs ADD COLUMN segment_ids uuid[] NOT NULL DEFAULT '{}'`);
    // One row per member and segment: the latest event by the member's event order (member_version
    // = the event's aggregateVersion), so a late or replayed older event never overwrites a newer one.
    await q.query(`
      CREATE TABLE segment_memberships (
        member_id uuid NOT NULL,
        segment_id uuid NOT NULL,
        program_id uuid NOT NULL,
        member boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        member_version integer NOT NULL,
        event_id uuid NOT NULL,
        PRIMARY KEY (member_id, segment_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE segment_memberships`);
    await q.query(`ALTER TABLE catalogs DROP COLUMN segment_ids`);
  }
}
