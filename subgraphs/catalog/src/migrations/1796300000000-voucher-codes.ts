import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Voucher code pools of E_VOUCHER rewards: encrypted codes, each issued at most once. */
export class VoucherCodes1796300000000 implements MigrationInterface {
  name = 'VoucherCodes1796300000000';

  async up(q: QueryRunner): Promise<void> {
    // An E_VOUCHER's stock is its codes (received = codes imported), so it can no longer be
    // unlimited. Rewards made before this had no pool: none of their codes exist, 0 is what they have.
    await q.query(`UPDATE rewards SET stock_received = 0 WHERE type = 'E_VOUCHER' AND stock_received IS NULL`);
    await q.query(`ALTER TABLE rewards ADD CONSTRAINT rewards_e_voucher_counted CHECK (type <> 'E_VOUCHER' OR stock_received IS NOT NULL)`);
    // The target of voucher_codes' (reward_id, program_id) key: a code's program is its reward's.
    await q.query(`ALTER TABLE rewards ADD CONSTRAINT rewards_id_program UNIQUE (id, program_id)`);
    await q.query(`
      CREATE TABLE voucher_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        program_id uuid NOT NULL,
        reward_id uuid NOT NULL,
        -- AES-256-GCM: format byte, random IV, tag, ciphertext. Never the code in clear.
        code_encrypted bytea NOT NULL CHECK (octet_length(code_encrypted) > 29),
        -- HMAC-SHA256 of the normalised code (case ignored): finds duplicates without decrypting.
        code_hash bytea NOT NULL CHECK (octet_length(code_hash) = 32),
        -- At most 4 trailing characters, never more than half the code: what staff see.
        code_tail text NOT NULL CHECK (char_length(code_tail) BETWEEN 2 AND 4),
        status text NOT NULL CHECK (status IN ('AVAILABLE', 'ASSIGNED')),
        assigned_to_member_id uuid,
        -- The reward order line it was issued for; no foreign key: orders are another migration's,
        -- and a code must never be deleted with an order.
        order_line_id uuid,
        -- Which unit of that line (1..quantity).
        unit int CHECK (unit > 0),
        assigned_at timestamptz,
        imported_at timestamptz NOT NULL,
        import_batch_id uuid NOT NULL,
        FOREIGN KEY (reward_id, program_id) REFERENCES rewards (id, program_id),
        CONSTRAINT voucher_codes_assignment CHECK (
          (status = 'ASSIGNED' AND assigned_to_member_id IS NOT NULL AND order_line_id IS NOT NULL AND unit IS NOT NULL AND assigned_at IS NOT NULL)
          OR (status = 'AVAILABLE' AND assigned_to_member_id IS NULL AND order_line_id IS NULL AND unit IS NULL AND assigned_at IS NULL)),
        -- Once per program, not per reward: the same code in two rewards' pools would be one bearer
        -- value issued to two members. Not across programs: those are different businesses, and
        -- refusing a code because another program has it would tell one what the other holds.
        CONSTRAINT voucher_codes_once_per_program UNIQUE (program_id, code_hash)
      )`);
    // One code per unit of an order line, whatever runs twice.
    await q.query(`CREATE UNIQUE INDEX voucher_codes_line_unit ON voucher_codes (order_line_id, unit) WHERE order_line_id IS NOT NULL`);
    // The claim picks the oldest available codes of a reward; the pool counts read by reward.
    await q.query(`CREATE INDEX voucher_codes_available ON voucher_codes (reward_id, imported_at, id) WHERE status = 'AVAILABLE'`);
    await q.query(`CREATE INDEX voucher_codes_reward ON voucher_codes (reward_id, status)`);
    await q.query(`CREATE INDEX voucher_codes_member ON voucher_codes (assigned_to_member_id) WHERE assigned_to_member_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE voucher_codes`);
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_id_program`);
    await q.query(`ALTER TABLE rewards DROP CONSTRAINT rewards_e_voucher_counted`);
  }
}
