import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rewards with stock counters and their versions; catalogs and their ordered rewards. */
export class RewardsAndCatalogs1796100000000 implements MigrationInterface {
  name = 'RewardsAndCatalogs1796100000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign keys to programs, tiers or groups: they live in the members database.
    await q.query(`
      CREATE TABLE rewards (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        type text NOT NULL CHECK (type IN ('PHYSICAL', 'E_VOUCHER', 'EXPERIENCE', 'PARTNER_SERVICE', 'CHARITY')),
        status text NOT NULL CHECK (status IN ('ACTIVE', 'RETIRED')),
        default_locale text NOT NULL,
        translations jsonb NOT NULL,
        points int NOT NULL CHECK (points > 0),
        cash_amount numeric(18, 4),
        cash_currency text,
        available_from timestamptz,
        available_until timestamptz,
        -- NULL received: unlimited stock. The counters only ever move by SQL increments, and these
        -- checks make any statement that would oversell fail instead of committing.
        stock_received int CHECK (stock_received >= 0),
        stock_reserved int NOT NULL DEFAULT 0 CHECK (stock_reserved >= 0),
        stock_sold int NOT NULL DEFAULT 0 CHECK (stock_sold >= 0),
        limit_count int,
        limit_days int,
        tier_ids uuid[] NOT NULL DEFAULT '{}',
        member_group_ids uuid[] NOT NULL DEFAULT '{}',
        experience jsonb,
        partner_id text,
        version int NOT NULL CHECK (version > 0),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT rewards_stock_available CHECK (stock_received IS NULL OR stock_received - stock_reserved - stock_sold >= 0),
        CONSTRAINT rewards_unlimited_has_no_counts CHECK (stock_received IS NOT NULL OR (stock_reserved = 0 AND stock_sold = 0)),
        CONSTRAINT rewards_cash_whole CHECK ((cash_amount IS NULL) = (cash_currency IS NULL) AND (cash_amount IS NULL OR cash_amount > 0)),
        CONSTRAINT rewards_window CHECK (available_from IS NULL OR available_until IS NULL OR available_from < available_until),
        CONSTRAINT rewards_limit_whole CHECK ((limit_count IS NULL) = (limit_days IS NULL) AND (limit_count IS NULL OR (limit_count > 0 AND limit_days > 0))),
        CONSTRAINT rewards_experience CHECK ((type = 'EXPERIENCE') = (experience IS NOT NULL)),
        CONSTRAINT rewards_partner CHECK ((type = 'PARTNER_SERVICE') = (partner_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX rewards_program ON rewards (program_id, created_at DESC, id DESC)`);
    // Written in the same transaction as every change of the reward: history cannot miss one.
    await q.query(`
      CREATE TABLE reward_versions (
        reward_id uuid NOT NULL REFERENCES rewards (id),
        version int NOT NULL,
        change text NOT NULL CHECK (change IN ('CREATED', 'UPDATED', 'STOCK_RECEIVED', 'RETIRED')),
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL,
        snapshot jsonb NOT NULL,
        PRIMARY KEY (reward_id, version)
      )`);
    await q.query(`
      CREATE TABLE catalogs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- Creation order, even for catalogs created in the same instant (a seed, a script).
        seq bigint GENERATED ALWAYS AS IDENTITY,
        program_id uuid NOT NULL,
        name text NOT NULL CHECK (name <> ''),
        tier_ids uuid[] NOT NULL DEFAULT '{}',
        member_group_ids uuid[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX catalogs_program ON catalogs (program_id, seq)`);
    await q.query(`
      CREATE TABLE catalog_rewards (
        catalog_id uuid NOT NULL REFERENCES catalogs (id),
        reward_id uuid NOT NULL REFERENCES rewards (id),
        position int NOT NULL,
        PRIMARY KEY (catalog_id, reward_id),
        UNIQUE (catalog_id, position)
      )`);
    await q.query(`CREATE INDEX catalog_rewards_reward ON catalog_rewards (reward_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE catalog_rewards`);
    await q.query(`DROP TABLE catalogs`);
    await q.query(`DROP TABLE reward_versions`);
    await q.query(`DROP TABLE rewards`);
  }
}
