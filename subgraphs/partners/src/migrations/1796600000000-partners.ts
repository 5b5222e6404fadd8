import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Partners, their versioned agreements, and API clients with their hashed keys. */
export class Partners1796600000000 implements MigrationInterface {
  name = 'Partners1796600000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to programs: they live in the members database (subgraphs never share tables).
    await q.query(`
      CREATE TABLE partners (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        name text NOT NULL CHECK (name <> ''),
        category text NOT NULL CHECK (category IN ('FUEL', 'RETAIL', 'TRAVEL', 'HOSPITALITY', 'FINANCE', 'OTHER')),
        status text NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'ENDED')),
        contacts jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    // Unique ignoring case: "Shell" and "SHELL" in one program would be one partner twice.
    await q.query(`CREATE UNIQUE INDEX partners_name ON partners (program_id, lower(name))`);

    // Versions are only ever inserted (a trigger refuses UPDATE): settlement must be able to tell
    // which terms applied at any time, so published terms never change.
    await q.query(`
      CREATE TABLE partner_agreements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        partner_id uuid NOT NULL REFERENCES partners (id),
        version int NOT NULL CHECK (version > 0),
        effective_from timestamptz NOT NULL,
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        issue_price numeric(18, 8) NOT NULL CHECK (issue_price >= 0),
        redemption_price numeric(18, 8) NOT NULL CHECK (redemption_price >= 0),
        fixed_fee numeric(18, 4) NOT NULL CHECK (fixed_fee >= 0),
        transaction_fee numeric(18, 4) NOT NULL CHECK (transaction_fee >= 0),
        settlement_period text NOT NULL CHECK (settlement_period IN ('WEEKLY', 'MONTHLY', 'QUARTERLY')),
        prepaid_points int CHECK (prepaid_points > 0),
        credit_limit_points int CHECK (credit_limit_points > 0),
        created_at timestamptz NOT NULL,
        UNIQUE (partner_id, version),
        UNIQUE (partner_id, effective_from),
        CONSTRAINT partner_agreements_one_limit CHECK (prepaid_points IS NULL OR credit_limit_points IS NULL)
      )`);
    await q.query(`
      CREATE FUNCTION partner_agreements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'partner agreement versions are never changed: publish a new one';
      END $$`);
    await q.query(`CREATE TRIGGER partner_agreements_immutable BEFORE UPDATE ON partner_agreements FOR EACH ROW EXECUTE FUNCTION partner_agreements_immutable()`);

    await q.query(`
      CREATE TABLE partner_api_clients (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        partner_id uuid NOT NULL REFERENCES partners (id),
        name text NOT NULL CHECK (name <> ''),
        scopes text[] NOT NULL CHECK (cardinality(scopes) > 0),
        expires_at timestamptz,
        rate_limit_per_minute int CHECK (rate_limit_per_minute > 0),
        last_used_at timestamptz,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX partner_api_clients_partner ON partner_api_clients (partner_id, created_at)`);

    // Only the SHA-256 of a key (hex) and its display part; the key itself is never stored.
    await q.query(`
      CREATE TABLE partner_api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id uuid NOT NULL REFERENCES partner_api_clients (id),
        hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
        display text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX partner_api_keys_client ON partner_api_keys (client_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE partner_api_keys`);
    await q.query(`DROP TABLE partner_api_clients`);
    await q.query(`DROP TABLE partner_agreements`);
    await q.query(`DROP FUNCTION partner_agreements_immutable()`);
    await q.query(`DROP TABLE partners`);
  }
}
