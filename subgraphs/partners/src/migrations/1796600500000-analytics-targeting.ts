import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What analytics tells partners about members, kept in partners' own tables (it never reads
 * analytics'): segment membership, and experiment assignments with the offers they name. Offers'
 * targeting (Member.offers) reads them in the same statement as the offers.
 */
export class AnalyticsTargeting1796600500000 implements MigrationInterface {
  name = 'AnalyticsTargeting1796600500000';

  async up(q: QueryRunner): Promise<void> {
    // One row per member and segment, the latest SegmentMembershipChanged by the member's event
    // order (member_version = the event's aggregateVersion): a late or replayed older event never
    // overwrites a newer one. A row with member false is a member who left.
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
    // One row per member and experiment: their current assignment (latest by the member's event order).
    await q.query(`
      CREATE TABLE experiment_assignments (
        member_id uuid NOT NULL,
        experiment_id uuid NOT NULL,
        program_id uuid NOT NULL,
        variant_key text NOT NULL,
        holdout boolean NOT NULL,
        offer_ids uuid[] NOT NULL DEFAULT '{}',
        starts_at timestamptz NOT NULL,
        ends_at timestamptz,
        member_version integer NOT NULL,
        event_id uuid NOT NULL,
        PRIMARY KEY (member_id, experiment_id)
      )`);
    // Every offer some assignment ever named, with the naming event's program: such an offer is
    // shown only through a current assignment. Never deleted: an offer stays an experiment's once named.
    await q.query(`
      CREATE TABLE experiment_offers (
        offer_id uuid NOT NULL,
        program_id uuid NOT NULL,
        experiment_id uuid NOT NULL,
        first_named_at timestamptz NOT NULL,
        PRIMARY KEY (offer_id, program_id, experiment_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE experiment_offers`);
    await q.query(`DROP TABLE experiment_assignments`);
    await q.query(`DROP TABLE segment_memberships`);
  }
}
