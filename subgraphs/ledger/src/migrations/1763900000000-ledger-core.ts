import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The double-entry core. The invariants are enforced by PostgreSQL, not only by our code:
 * - journal entries and lines are immutable (UPDATE/DELETE raise);
 * - every entry's lines sum to zero in each bucket (checked at commit);
 * - member accounts' cached balances are maintained by a trigger from the lines themselves, so
 *   they always equal the sum of lines;
 * - an account that may not go negative cannot be overdrawn by a spend (a clawback may take it
 *   below zero only when the transaction says so explicitly: `SET LOCAL ledger.clawback = 'on'`).
 */
export class LedgerCore1763900000000 implements MigrationInterface {
  name = 'LedgerCore1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ledger_settings (
        program_id uuid PRIMARY KEY,
        return_window_days int NOT NULL DEFAULT 14 CHECK (return_window_days BETWEEN 0 AND 365),
        clawback_policy text NOT NULL DEFAULT 'NEGATIVE_BALANCE' CHECK (clawback_policy IN ('NEGATIVE_BALANCE','WRITE_OFF')),
        expiry_policy text NOT NULL DEFAULT 'NEVER' CHECK (expiry_policy IN ('NEVER','ROLLING_MONTHS','END_OF_NEXT_YEAR')),
        expiry_months int CHECK (expiry_months BETWEEN 1 AND 120),
        hold_ttl_minutes int NOT NULL DEFAULT 60 CHECK (hold_ttl_minutes BETWEEN 1 AND 43200),
        monthly_transfer_limit int NOT NULL DEFAULT 10000 CHECK (monthly_transfer_limit >= 0),
        monthly_donation_limit int NOT NULL DEFAULT 100000 CHECK (monthly_donation_limit >= 0),
        updated_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('MEMBER_REWARD','MEMBER_STATUS','ISSUANCE','STATUS_ISSUANCE','PARTNER_FUNDING','REDEMPTION','BREAKAGE','ADJUSTMENT','WRITE_OFF','HOLDS','CHARITY')),
        owner_id uuid,
        allow_negative boolean NOT NULL,
        -- Cached balances, maintained by trigger for member accounts only. Program accounts sit on
        -- the other side of every entry; caching them would make one row every write must lock.
        tracks_balance boolean NOT NULL,
        posted bigint NOT NULL DEFAULT 0,
        pending bigint NOT NULL DEFAULT 0,
        held bigint NOT NULL DEFAULT 0,
        -- Reward points ever earned, net of returns (accrual and return lines), for Member.points.
        lifetime_earned bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_pending_not_negative CHECK (pending >= 0 OR allow_negative),
        CONSTRAINT accounts_held_not_negative CHECK (held >= 0 OR allow_negative),
        CONSTRAINT accounts_unique UNIQUE NULLS NOT DISTINCT (program_id, kind, owner_id)
      )`);
    await q.query(`CREATE INDEX accounts_owner ON accounts (owner_id) WHERE owner_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE journal_entries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- Commit-independent but monotonic: orders entries made in the same millisecond.
        seq bigserial NOT NULL UNIQUE,
        program_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ACCRUAL','POSTING','RETURN','HOLD','CAPTURE','RELEASE','ADJUSTMENT','EXPIRY','REINSTATEMENT','TRANSFER','DONATION')),
        -- The member whose statement shows the entry, and by how much their reward points moved.
        member_id uuid,
        member_amount bigint,
        description text,
        reason_code text,
        created_by text,
        corrects_entry_id uuid REFERENCES journal_entries(id),
        purchase_id uuid,
        hold_id uuid,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX journal_entries_member ON journal_entries (member_id, created_at DESC, seq DESC) WHERE member_id IS NOT NULL`);
    await q.query(`CREATE INDEX journal_entries_program_kind ON journal_entries (program_id, kind)`);
    await q.query(`CREATE INDEX journal_entries_purchase ON journal_entries (purchase_id) WHERE purchase_id IS NOT NULL`);
    await q.query(`CREATE INDEX journal_entries_hold ON journal_entries (hold_id) WHERE hold_id IS NOT NULL`);
    // An expiry is reinstated at most once.
    await q.query(`CREATE UNIQUE INDEX journal_entries_one_reinstatement ON journal_entries (corrects_entry_id) WHERE kind = 'REINSTATEMENT'`);

    await q.query(`
      CREATE TABLE journal_lines (
        id bigserial PRIMARY KEY,
        entry_id uuid NOT NULL REFERENCES journal_entries(id),
        account_id uuid NOT NULL REFERENCES accounts(id),
        bucket text NOT NULL CHECK (bucket IN ('POSTED','PENDING','HELD')),
        amount bigint NOT NULL CHECK (amount <> 0),
        -- The entry's kind, copied so the balance trigger can keep lifetime_earned without a lookup.
        entry_kind text NOT NULL
      )`);
    await q.query(`CREATE INDEX journal_lines_entry ON journal_lines (entry_id)`);
    await q.query(`CREATE INDEX journal_lines_account ON journal_lines (account_id, bucket)`);

    // Immutability: corrections are new entries, never edits.
    await q.query(`
      CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'journal % rows are immutable: post a correcting entry instead', TG_TABLE_NAME
          USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION ledger_immutable()`);
    await q.query(`CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines FOR EACH ROW EXECUTE FUNCTION ledger_immutable()`);

    // Cached balances follow the lines, in the same statement.
    await q.query(`
      CREATE FUNCTION ledger_apply_line() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE accounts SET
          posted = posted + CASE WHEN NEW.bucket = 'POSTED' THEN NEW.amount ELSE 0 END,
          pending = pending + CASE WHEN NEW.bucket = 'PENDING' THEN NEW.amount ELSE 0 END,
          held = held + CASE WHEN NEW.bucket = 'HELD' THEN NEW.amount ELSE 0 END,
          lifetime_earned = lifetime_earned + CASE WHEN NEW.entry_kind IN ('ACCRUAL', 'RETURN') AND NEW.bucket <> 'HELD' THEN NEW.amount ELSE 0 END
        WHERE id = NEW.account_id AND tracks_balance;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER journal_lines_apply AFTER INSERT ON journal_lines FOR EACH ROW EXECUTE FUNCTION ledger_apply_line()`);

    // No overdraft: a change that lowers available (posted − held) below zero is refused, unless
    // the transaction declared a clawback. Raising a negative balance (earning) is always fine.
    await q.query(`
      CREATE FUNCTION ledger_no_overdraft() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT NEW.allow_negative
           AND NEW.posted - NEW.held < 0
           AND NEW.posted - NEW.held < OLD.posted - OLD.held
           AND coalesce(current_setting('ledger.clawback', true), '') <> 'on' THEN
          RAISE EXCEPTION 'insufficient points on account %', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_no_overdraft';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER accounts_no_overdraft BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION ledger_no_overdraft()`);

    // Balanced entries: checked once per entry at commit, after all its lines are in.
    await q.query(`
      CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE unbalanced text;
      BEGIN
        SELECT string_agg(bucket || ' ' || total, ', ') INTO unbalanced FROM (
          SELECT bucket, sum(amount) AS total FROM journal_lines WHERE entry_id = NEW.entry_id GROUP BY bucket
        ) sums WHERE total <> 0;
        IF unbalanced IS NOT NULL THEN
          RAISE EXCEPTION 'journal entry % does not balance: %', NEW.entry_id, unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);

    await q.query(`
      CREATE TABLE earning_rule_sets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        version int NOT NULL,
        effective_from timestamptz NOT NULL,
        rules jsonb NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL,
        UNIQUE (program_id, version)
      )`);
    await q.query(`CREATE INDEX earning_rule_sets_effective ON earning_rule_sets (program_id, effective_from DESC, version DESC)`);

    await q.query(`
      CREATE TABLE purchases (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        source text NOT NULL,
        external_id text NOT NULL,
        channel text NOT NULL,
        partner_id uuid,
        currency char(3) NOT NULL,
        total numeric(18,2) NOT NULL,
        points int NOT NULL CHECK (points >= 0),
        status_points int NOT NULL CHECK (status_points >= 0),
        lines jsonb NOT NULL,
        rule_set_version int,
        occurred_at timestamptz NOT NULL,
        posts_at timestamptz NOT NULL,
        posted_at timestamptz,
        accrual_entry_id uuid REFERENCES journal_entries(id),
        -- Points already reversed by returns (taken from pending while the purchase was pending).
        returned_points int NOT NULL DEFAULT 0 CHECK (returned_points BETWEEN 0 AND points),
        returned_status_points int NOT NULL DEFAULT 0 CHECK (returned_status_points BETWEEN 0 AND status_points),
        created_at timestamptz NOT NULL,
        CONSTRAINT purchases_unique_source UNIQUE (program_id, source, external_id)
      )`);
    await q.query(`
      CREATE TABLE purchase_returns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        purchase_id uuid NOT NULL REFERENCES purchases(id),
        lines jsonb NOT NULL,
        points int NOT NULL CHECK (points >= 0),
        status_points int NOT NULL CHECK (status_points >= 0),
        from_pending int NOT NULL,
        from_posted int NOT NULL,
        written_off int NOT NULL,
        clawback_policy text NOT NULL,
        reason text,
        entry_id uuid REFERENCES journal_entries(id),
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX purchase_returns_purchase ON purchase_returns (purchase_id)`);

    // Posted reward points in batches by expiry date. Spending takes the soonest-expiring first;
    // for every member account, the lots' remaining points add up to what is available.
    await q.query(`
      CREATE TABLE point_lots (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id),
        source_entry_id uuid NOT NULL REFERENCES journal_entries(id),
        earned_at timestamptz NOT NULL,
        expires_at timestamptz,
        amount int NOT NULL CHECK (amount > 0),
        remaining int NOT NULL CHECK (remaining BETWEEN 0 AND amount)
      )`);
    await q.query(`CREATE INDEX point_lots_spend ON point_lots (account_id, expires_at NULLS LAST, earned_at, id) WHERE remaining > 0`);
    await q.query(`CREATE INDEX point_lots_due ON point_lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE charities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (program_id, name)
      )`);
    await q.query(`CREATE INDEX purchases_due ON purchases (posts_at) WHERE posted_at IS NULL`);
    await q.query(`CREATE INDEX purchases_member ON purchases (member_id, occurred_at DESC)`);

    await q.query(`
      CREATE TABLE holds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        member_id uuid NOT NULL,
        points int NOT NULL CHECK (points > 0),
        reference text NOT NULL,
        status text NOT NULL CHECK (status IN ('OPEN','CAPTURED','RELEASED','EXPIRED')),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        closed_at timestamptz
      )`);
    await q.query(`CREATE INDEX holds_expiring ON holds (expires_at) WHERE status = 'OPEN'`);
    // Which lots a hold took, so a release gives back exactly those.
    await q.query(`
      CREATE TABLE hold_lots (
        hold_id uuid NOT NULL REFERENCES holds(id),
        lot_id uuid NOT NULL REFERENCES point_lots(id),
        points int NOT NULL CHECK (points > 0),
        PRIMARY KEY (hold_id, lot_id)
      )`);

    // One row per idempotency key, written in the same transaction as the effect: a committed key
    // always has its effect, a rolled-back attempt leaves neither (so it may be retried).
    await q.query(`
      CREATE TABLE idempotency_keys (
        program_id uuid NOT NULL,
        key text NOT NULL,
        operation text NOT NULL,
        request_hash text NOT NULL,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (program_id, key)
      )`);

    // Transactional outbox: events are written with the change; delivery is a separate concern.
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        aggregate_type text NOT NULL,
        aggregate_id uuid NOT NULL,
        event_type text NOT NULL,
        event_version int NOT NULL,
        payload jsonb NOT NULL,
        entry_id uuid REFERENCES journal_entries(id),
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX outbox_entry ON outbox (entry_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'idempotency_keys', 'hold_lots', 'point_lots', 'charities', 'purchase_returns', 'holds', 'purchases', 'earning_rule_sets', 'journal_lines', 'journal_entries', 'accounts', 'ledger_settings']) {
      await q.query(`DROP TABLE ${table}`);
    }
    for (const fn of ['ledger_check_balanced', 'ledger_no_overdraft', 'ledger_apply_line', 'ledger_immutable']) await q.query(`DROP FUNCTION ${fn}()`);
  }
}
