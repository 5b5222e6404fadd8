import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Prepaid top-ups: further blocks of points a partner bought beyond its agreement's. Only ever
 * inserted; the reference (an invoice) is unique per partner, so one invoice adds one block however
 * often it is entered. The ledger learns of each through `PartnerPrepaidPointsAdded`.
 */
export class PrepaidBlocks1796840000000 implements MigrationInterface {
  name = 'PrepaidBlocks1796840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE partner_prepaid_blocks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        partner_id uuid NOT NULL REFERENCES partners (id),
        points int NOT NULL CHECK (points > 0),
        reference text NOT NULL CHECK (reference <> ''),
        added_by text,
        added_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX partner_prepaid_blocks_reference ON partner_prepaid_blocks (partner_id, reference)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE partner_prepaid_blocks`);
  }
}
