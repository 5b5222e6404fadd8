import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identifiers a member adds themself wait here, with the hash of the code sent to them, until
 * confirmed (domain/identifier-verification.ts). `member_identifiers` keeps meaning "identifiers
 * that find a member": every row already in it was added by staff or at enrolment before
 * verification existed, and counts as verified, so existing data needs no change.
 */
export class IdentifierVerification1764600000000 implements MigrationInterface {
  name = 'IdentifierVerification1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identifier_verifications (
        id uuid PRIMARY KEY,
        member_id uuid NOT NULL REFERENCES members(id),
        program_id uuid NOT NULL REFERENCES programs(id),
        type text NOT NULL CHECK (type IN ('EMAIL','PHONE')),
        value text NOT NULL,
        code_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        requests int NOT NULL CHECK (requests >= 1),
        window_started_at timestamptz NOT NULL,
        requested_at timestamptz NOT NULL,
        -- One request per member and identifier: asking again replaces the code.
        CONSTRAINT identifier_verifications_unique UNIQUE (member_id, type, value)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identifier_verifications`);
  }
}
