import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A fourth consent purpose, PARTNER_MARKETING (receiving partners' offers), next to PARTNER_SHARING
 * (partners may see my data): two different things a member may want one of and not the other.
 */
export class PartnerMarketingConsent1796820000000 implements MigrationInterface {
  name = 'PartnerMarketingConsent1796820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE consents DROP CONSTRAINT consents_purpose_check`);
    await q.query(`ALTER TABLE consents ADD CONSTRAINT consents_purpose_check CHECK (purpose IN ('MARKETING','PROFILING','PARTNER_SHARING','PARTNER_MARKETING'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE consents DROP CONSTRAINT consents_purpose_check`);
    await q.query(`ALTER TABLE consents ADD CONSTRAINT consents_purpose_check CHECK (purpose IN ('MARKETING','PROFILING','PARTNER_SHARING'))`);
  }
}
