import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Offers and pre-sales of a program, its own (partner_id null) or a partner's. */
export class Offers1796820000000 implements MigrationInterface {
  name = 'Offers1796820000000';

  async up(q: QueryRunner): Promise<void> {
    // The window rules are checked in domain code too; the constraints keep a bug from storing an
    // offer that shows before or after it can ever be valid.
    await q.query(`
      CREATE TABLE offers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        partner_id uuid REFERENCES partners (id),
        kind text NOT NULL CHECK (kind IN ('OFFER', 'PRESALE')),
        status text NOT NULL CHECK (status IN ('DRAFT', 'PUBLISHED', 'WITHDRAWN')),
        title text NOT NULL CHECK (title <> ''),
        description text NOT NULL CHECK (description <> ''),
        tier_ids uuid[] NOT NULL DEFAULT '{}',
        segment_ids uuid[] NOT NULL DEFAULT '{}',
        valid_from timestamptz NOT NULL,
        valid_until timestamptz NOT NULL,
        visible_from timestamptz NOT NULL,
        visible_until timestamptz NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        published_at timestamptz,
        withdrawn_at timestamptz,
        CONSTRAINT offers_validity CHECK (valid_from < valid_until),
        CONSTRAINT offers_visibility_covers_validity CHECK (visible_from <= valid_from AND visible_until >= valid_until)
      )`);
    // Member.offers: a program's published offers still visible (the partial index holds only those).
    await q.query(`CREATE INDEX offers_visible ON offers (program_id, visible_until) WHERE status = 'PUBLISHED'`);
    // The lists (Program.offers, Partner.offers), newest first.
    await q.query(`CREATE INDEX offers_program ON offers (program_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX offers_partner ON offers (partner_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE offers`);
  }
}
