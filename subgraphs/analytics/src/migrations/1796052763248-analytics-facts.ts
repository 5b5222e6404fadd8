import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The analytics subgraph's facts: one row per event consumed, keyed by the event's id, so a
 * redelivered or replayed event (a rewind to position zero) writes nothing twice and a rebuild
 * gives the same rows. No foreign keys to programs or members: they live in other subgraphs.
 */
export class AnalyticsFacts1796052763248 implements MigrationInterface {
  name = 'AnalyticsFacts1796052763248';

  async up(q: QueryRunner): Promise<void> {
    // Members' lifecycle: MemberEnrolled (kind ENROLLED) and MemberStatusChanged (STATUS_CHANGED).
    await q.query(`
      CREATE TABLE member_facts (
        event_id uuid PRIMARY KEY,
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ENROLLED', 'STATUS_CHANGED')),
        channel text,
        from_status text,
        to_status text,
        occurred_at timestamptz NOT NULL,
        day date NOT NULL
      )`);
    await q.query(`CREATE INDEX member_facts_program ON member_facts (program_id, kind, occurred_at)`);
    // Movements of points, one row per ledger event; points as the event carries them (positive,
    // except PointsAdjusted's ±). A return also keeps its split: issued counts exactly what the
    // ledger's issuance accounts got back (fromPending + fromPosted + writtenOff).
    await q.query(`
      CREATE TABLE point_facts (
        event_id uuid PRIMARY KEY,
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ACCRUED','RETURNED','BONUS','REDEEMED','REFUNDED','EXPIRED','REINSTATED','ADJUSTED','DONATED','TRANSFERRED')),
        points bigint NOT NULL,
        issuance_points bigint NOT NULL DEFAULT 0,
        purchase_id uuid,
        partner_id uuid,
        pending boolean,
        occurred_at timestamptz NOT NULL,
        day date NOT NULL
      )`);
    await q.query(`CREATE INDEX point_facts_program ON point_facts (program_id, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE point_facts`);
    await q.query(`DROP TABLE member_facts`);
  }
}
