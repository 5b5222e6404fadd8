import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Programs, tiers, members and their identifiers, statuses, consents and groups. */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE programs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        type text NOT NULL CHECK (type IN ('RECOGNITION','COLLECTION','DISCOUNT','AFFINITY','COALITION')),
        points_currency_name text NOT NULL,
        point_value_amount numeric(18,8) NOT NULL CHECK (point_value_amount >= 0),
        point_value_currency char(3) NOT NULL,
        status text NOT NULL CHECK (status IN ('DRAFT','ACTIVE','SUSPENDED','CLOSED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX programs_created ON programs (created_at, id)`);

    await q.query(`
      CREATE TABLE tiers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL REFERENCES programs(id),
        name text NOT NULL,
        rank int NOT NULL,
        qualifying_threshold int NOT NULL CHECK (qualifying_threshold >= 0),
        benefits jsonb NOT NULL DEFAULT '[]',
        UNIQUE (program_id, rank),
        UNIQUE (program_id, name)
      )`);

    await q.query(`
      CREATE TABLE members (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL REFERENCES programs(id),
        subject text,
        status text NOT NULL CHECK (status IN ('ACTIVE','SUSPENDED','CLOSED')),
        status_reason text,
        first_name text,
        last_name text,
        birth_date date,
        preferred_language text,
        tier_id uuid REFERENCES tiers(id),
        enrolled_via text NOT NULL CHECK (enrolled_via IN ('SELF','AGENT','PARTNER')),
        enrolled_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (program_id, subject)
      )`);
    // Staff lists: newest enrolment first, keyset-paginated.
    await q.query(`CREATE INDEX members_program_enrolled ON members (program_id, enrolled_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE member_identifiers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members(id),
        program_id uuid NOT NULL REFERENCES programs(id),
        type text NOT NULL CHECK (type IN ('CARD','EMAIL','PHONE')),
        value text NOT NULL,
        added_at timestamptz NOT NULL,
        -- The till's lookup is one probe of this index; it also makes identifiers unique per program.
        CONSTRAINT member_identifiers_unique UNIQUE (program_id, type, value)
      )`);
    await q.query(`CREATE INDEX member_identifiers_member ON member_identifiers (member_id)`);

    await q.query(`
      CREATE TABLE member_status_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members(id),
        from_status text,
        to_status text NOT NULL,
        reason text,
        changed_by text,
        changed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX member_status_changes_member ON member_status_changes (member_id, changed_at DESC)`);

    await q.query(`
      CREATE TABLE tier_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members(id),
        from_tier_id uuid REFERENCES tiers(id),
        to_tier_id uuid REFERENCES tiers(id),
        reason text NOT NULL,
        source text NOT NULL CHECK (source IN ('MANUAL','AUTOMATIC')),
        changed_by text,
        changed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX tier_changes_member ON tier_changes (member_id, changed_at DESC)`);

    await q.query(`
      CREATE TABLE consents (
        member_id uuid NOT NULL REFERENCES members(id),
        channel text NOT NULL CHECK (channel IN ('EMAIL','SMS','PUSH','POST')),
        purpose text NOT NULL CHECK (purpose IN ('MARKETING','PROFILING','PARTNER_SHARING')),
        granted boolean NOT NULL,
        source text NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (member_id, channel, purpose)
      )`);
    await q.query(`
      CREATE TABLE consent_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES members(id),
        channel text NOT NULL,
        purpose text NOT NULL,
        granted boolean NOT NULL,
        source text NOT NULL,
        changed_by text,
        changed_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX consent_changes_member ON consent_changes (member_id, changed_at DESC)`);

    await q.query(`
      CREATE TABLE member_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL REFERENCES programs(id),
        type text NOT NULL CHECK (type IN ('COMPANY','AFFINITY','HOUSEHOLD')),
        name text NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (program_id, name)
      )`);
    await q.query(`CREATE INDEX member_groups_program ON member_groups (program_id, created_at, id)`);
    await q.query(`
      CREATE TABLE group_memberships (
        group_id uuid NOT NULL REFERENCES member_groups(id),
        member_id uuid NOT NULL REFERENCES members(id),
        joined_at timestamptz NOT NULL,
        PRIMARY KEY (group_id, member_id)
      )`);
    await q.query(`CREATE INDEX group_memberships_member ON group_memberships (member_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'group_memberships',
      'member_groups',
      'consent_changes',
      'consents',
      'tier_changes',
      'member_status_changes',
      'member_identifiers',
      'members',
      'tiers',
      'programs',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
