import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Partners' funding terms as the ledger learned them from partners' events (the ledger never reads
 * partners' tables): terms by version, prepaid top-ups, settled points. Each keyed by its natural
 * key, so a redelivered event changes nothing.
 */
export class PartnerFunding1796840000001 implements MigrationInterface {
  name = 'PartnerFunding1796840000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE partner_funding_terms (
        partner_id uuid NOT NULL,
        program_id uuid NOT NULL,
        version int NOT NULL CHECK (version > 0),
        agreement_id uuid NOT NULL,
        effective_from timestamptz NOT NULL,
        prepaid_points int CHECK (prepaid_points > 0),
        credit_limit_points int CHECK (credit_limit_points > 0),
        PRIMARY KEY (partner_id, version)
      )`);
    await q.query(`
      CREATE TABLE partner_prepaid_top_ups (
        partner_id uuid NOT NULL,
        program_id uuid NOT NULL,
        reference text NOT NULL,
        points int NOT NULL CHECK (points > 0),
        added_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, reference)
      )`);
    await q.query(`
      CREATE TABLE partner_settlements (
        statement_id uuid PRIMARY KEY,
        partner_id uuid NOT NULL,
        program_id uuid NOT NULL,
        points int NOT NULL,
        settled_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX partner_settlements_partner ON partner_settlements (partner_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE partner_settlements`);
    await q.query(`DROP TABLE partner_prepaid_top_ups`);
    await q.query(`DROP TABLE partner_funding_terms`);
  }
}
