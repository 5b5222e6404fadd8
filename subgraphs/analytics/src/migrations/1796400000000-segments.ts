import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rule-based segments (membership is in `segment_members`, from 1796100000000), the program's RFM
 * breakpoints, and the program settings that say what members may see of them.
 */
export class Segments1796400000000 implements MigrationInterface {
  name = 'Segments1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE segments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        name text NOT NULL,
        description text,
        visible_to_members boolean NOT NULL,
        -- the checked rules (domain/segments.ts SegmentRules), all-of
        rules jsonb NOT NULL,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'ARCHIVED')),
        -- the time job re-evaluated the activity windows up to here (members whose window boundary
        -- passed after it are the next run's candidates)
        windows_evaluated_at timestamptz NOT NULL,
        -- a whole-program evaluation in progress: the last member id done (the zero uuid at its
        -- start); null when membership is complete (services/segments.ts evaluatePending)
        evaluation_cursor uuid,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        archived_at timestamptz
      )`);
    await q.query(`CREATE INDEX segments_program ON segments (program_id, status)`);
    await q.query(`CREATE INDEX segments_pending ON segments (updated_at) WHERE evaluation_cursor IS NOT NULL`);
    // Scores 1–5 per dimension: F and M, the smallest value with that score; R, the largest number
    // of days since the last purchase with that score (domain/segments.ts Breakpoint).
    await q.query(`
      CREATE TABLE rfm_breakpoints (
        program_id uuid NOT NULL,
        dimension char(1) NOT NULL CHECK (dimension IN ('R', 'F', 'M')),
        score smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
        bound numeric(20, 4) NOT NULL,
        computed_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, dimension, score)
      )`);
    await q.query(`
      CREATE TABLE analytics_program_settings (
        program_id uuid PRIMARY KEY,
        -- members see their own segments marked visibleToMembers (Member.segments)
        members_see_segments boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    // The time job finds members whose window boundary passed by program and last purchase:
    // member_state_last_purchase (program_id, last_purchase_at) from 1796100000000 serves it.
    // Member.segments and Member.rfm know only the member's id: find their row without the program.
    await q.query(`CREATE INDEX member_state_member ON member_state (member_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX member_state_member`);
    await q.query(`DROP TABLE analytics_program_settings`);
    await q.query(`DROP TABLE rfm_breakpoints`);
    await q.query(`DROP TABLE segments`);
  }
}
