import { randomBytes, randomUUID } from 'node:crypto';
import { DomainError, forbidden, InputError, type Clock, type Logger, type Viewer } from '@loyalty-graph/shared';
import { idempotent } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { rewardColumns, type RewardRow } from '../entities';
import { canManageCatalog, canSeeWholeCode } from '../domain/policy';
import { checkImportCodes, codeTail, maskCode, parseCodeKey, VoucherCipher, type ImportRejectedCode } from '../domain/voucher-codes';
import { checkUuid, LIMITS } from '../domain/limits';
import { MAX_COUNTER, recordVersion } from './rewards';

export type { ImportRejectedCode } from '../domain/voucher-codes';

/** What importVoucherCodes did: how many codes joined the pool, and every refused one by its index. */
export interface ImportVoucherCodesResult extends Record<string, unknown> {
  rewardId: string;
  imported: number;
  rejected: ImportRejectedCode[];
}

/** One issued code as a viewer may see it: whole only for its member (canSeeWholeCode). */
export interface VoucherCodeView {
  id: string;
  /** Which unit of its order line (1..quantity). */
  unit: number;
  masked: string;
  /** The whole code for the member it was issued to; null for everyone else. */
  code: string | null;
  assignedAt: Date;
}

/** An issued code, decrypted: for the order's owner only (the caller shows it to nobody else). */
export interface OwnedVoucherCode {
  id: string;
  unit: number;
  code: string;
  memberId: string;
  assignedAt: Date;
}

export interface ClaimCodesInput {
  programId: string;
  rewardId: string;
  memberId: string;
  orderLineId: string;
  /** Units of the line: one code each. */
  quantity: number;
  now: Date;
}

export interface VoucherPoolCounts {
  total: number;
  available: number;
  assigned: number;
}

interface IssuedRow {
  id: string;
  unit: number;
  programId: string;
  rewardId: string;
  memberId: string;
  orderLineId: string;
  codeEncrypted: Buffer;
  codeTail: string;
  assignedAt: Date;
}

const ISSUED_COLUMNS = `v.id, v.unit, v.program_id AS "programId", v.reward_id AS "rewardId", v.assigned_to_member_id AS "memberId",
  v.order_line_id AS "orderLineId", v.code_encrypted AS "codeEncrypted", v.code_tail AS "codeTail", v.assigned_at AS "assignedAt"`;

/**
 * Voucher code pools of E_VOUCHER rewards: importing codes (their count is the reward's received
 * stock), issuing one per ordered unit, and reading issued codes with the masking rule applied.
 */
export class VoucherService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly cipher: VoucherCipher,
  ) {}

  /**
   * Adds codes to an E_VOUCHER reward's pool, and as many units to its received stock, in one
   * transaction: stock and codes never disagree. Refused codes are reported by index, never thrown.
   */
  async importCodes(viewer: Viewer, input: { idempotencyKey: string; rewardId: string; codes: readonly string[] }): Promise<ImportVoucherCodesResult> {
    const rewardId = checkUuid(input.rewardId, 'rewardId');
    const { accepted, rejected } = checkImportCodes(input.codes);
    const [reward] = (await this.db.query(`SELECT ${rewardColumns} FROM rewards r WHERE r.id = $1`, [rewardId])) as RewardRow[];
    if (!reward) throw new DomainError('REWARD_NOT_FOUND', 'There is no such reward', 'rewardId');
    if (!canManageCatalog(viewer, reward.programId)) throw forbidden('Only the program’s administrators manage its rewards');
    if (reward.type !== 'E_VOUCHER') throw new DomainError('NOT_E_VOUCHER', 'Only an E_VOUCHER reward has a pool of codes', 'rewardId');
    const hashes = accepted.map(({ code }) => this.cipher.hash(code).toString('hex'));
    // The key's stored request is a digest of the codes' keyed hashes, never of the codes: a plain
    // digest of a short code could be reversed by trying every code.
    const { result } = await idempotent(
      this.db,
      { programId: reward.programId, key: input.idempotencyKey, operation: 'importVoucherCodes', input: { rewardId, codes: hashes, rejected } },
      async (tx) => {
        const now = this.clock.now();
        // ON CONFLICT DO NOTHING: a code another import holds (committed, or committing now: this
        // statement waits for it) is skipped and reported, never an error for the whole file.
        const inserted = (await tx.query(
          `INSERT INTO voucher_codes (program_id, reward_id, code_encrypted, code_hash, code_tail, status, imported_at, import_batch_id)
           SELECT $1, $2, decode(c.encrypted, 'hex'), decode(c.hash, 'hex'), c.tail, 'AVAILABLE', $3, $4
           FROM unnest($5::text[], $6::text[], $7::text[]) AS c(encrypted, hash, tail)
           ON CONFLICT (program_id, code_hash) DO NOTHING RETURNING encode(code_hash, 'hex') AS hash`,
          [
            reward.programId,
            rewardId,
            now,
            randomUUID(),
            accepted.map(({ code }) => this.cipher.encrypt(code, rewardId).toString('hex')),
            hashes,
            accepted.map(({ code }) => codeTail(code)),
          ],
        )) as { hash: string }[];
        const added = new Set(inserted.map((row) => row.hash));
        const inPool: ImportRejectedCode[] = accepted
          .filter((_, i) => !added.has(hashes[i]!))
          .map(({ index, code }) => ({ index, reason: 'ALREADY_IN_POOL', masked: maskCode(codeTail(code)) }));
        if (added.size > 0) {
          // The same increment as receiveRewardStock, so orders moving the other counters at the
          // same moment never lose a count; a reward retired meanwhile matches nothing.
          const updated = (await tx.query(
            `UPDATE rewards SET stock_received = stock_received + $2, version = version + 1, updated_at = $3
             WHERE id = $1 AND status = 'ACTIVE' AND stock_received IS NOT NULL AND stock_received::bigint + $2 <= ${MAX_COUNTER} RETURNING id`,
            [rewardId, added.size, now],
          )) as [unknown[], number];
          if (updated[1] === 0) {
            const [current] = (await tx.query(`SELECT status FROM rewards WHERE id = $1`, [rewardId])) as { status: string }[];
            if (current?.status === 'RETIRED') throw new DomainError('REWARD_RETIRED', 'A retired reward receives no codes', 'rewardId');
            throw new DomainError('STOCK_LIMIT_EXCEEDED', `Received stock stays at most ${MAX_COUNTER.toLocaleString('en-US')} units`, 'codes');
          }
          await recordVersion(tx, rewardId, 'STOCK_RECEIVED', viewer, now);
        } else if (reward.status === 'RETIRED') {
          throw new DomainError('REWARD_RETIRED', 'A retired reward receives no codes', 'rewardId');
        }
        return { rewardId, imported: added.size, rejected: [...rejected, ...inPool].sort((a, b) => a.index - b.index) };
      },
      this.clock,
    );
    return result;
  }

  /**
   * Issues `quantity` available codes of the reward to the member for one order line, inside the
   * caller's transaction (the order's). Codes locked by another claim in flight are skipped, never
   * waited for, so concurrent orders each take different codes. Fewer available than asked:
   * DomainError OUT_OF_CODES, and the caller's transaction must roll back (this one's UPDATE is in
   * it). Calling again for the same line returns the codes it already has and issues none.
   */
  async claimCodes(tx: EntityManager, input: ClaimCodesInput): Promise<{ id: string; unit: number }[]> {
    if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > LIMITS.voucherCodesPerImport) {
      throw new InputError(`quantity must be a whole number from 1 to ${LIMITS.voucherCodesPerImport}`, 'quantity');
    }
    const existing = (await tx.query(
      `SELECT id, unit, reward_id AS "rewardId", assigned_to_member_id AS "memberId" FROM voucher_codes WHERE order_line_id = $1 ORDER BY unit`,
      [input.orderLineId],
    )) as { id: string; unit: number; rewardId: string; memberId: string }[];
    if (existing.length > 0) {
      if (existing.length !== input.quantity || existing.some((c) => c.rewardId !== input.rewardId || c.memberId !== input.memberId)) {
        throw new DomainError('CODES_ALREADY_CLAIMED', 'This order line already has other codes', 'orderLineId');
      }
      return existing.map(({ id, unit }) => ({ id, unit }));
    }
    const claimed = (await tx.query(
      `WITH picked AS (
         SELECT id, row_number() OVER (ORDER BY imported_at, id)::int AS unit FROM (
           SELECT id, imported_at FROM voucher_codes
           WHERE reward_id = $1 AND program_id = $2 AND status = 'AVAILABLE'
           ORDER BY imported_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) free)
       UPDATE voucher_codes v SET status = 'ASSIGNED', assigned_to_member_id = $4, order_line_id = $5, unit = p.unit, assigned_at = $6
       FROM picked p WHERE v.id = p.id AND v.status = 'AVAILABLE' RETURNING v.id, v.unit`,
      [input.rewardId, input.programId, input.quantity, input.memberId, input.orderLineId, input.now],
    )) as [{ id: string; unit: number }[], number];
    const rows = claimed[0];
    if (rows.length < input.quantity) {
      throw new DomainError('OUT_OF_CODES', `Only ${rows.length} of ${input.quantity} codes are available for this reward`, 'rewardId');
    }
    return rows.sort((a, b) => a.unit - b.unit);
  }

  /** The codes issued for one order line, decrypted: only ever shown to the line's member. */
  async codesOfLine(db: DataSource | EntityManager, orderLineId: string): Promise<OwnedVoucherCode[]> {
    const rows = (await db.query(`SELECT ${ISSUED_COLUMNS} FROM voucher_codes v WHERE v.order_line_id = $1 ORDER BY v.unit`, [orderLineId])) as IssuedRow[];
    return rows.map((row) => ({ id: row.id, unit: row.unit, code: this.cipher.decrypt(row.codeEncrypted, row.rewardId), memberId: row.memberId, assignedAt: row.assignedAt }));
  }

  /**
   * The codes of several order lines in one statement (for a per-request loader), each masked,
   * and whole only for the member it was issued to. Whether the viewer may see the line at all is
   * the order's rule, checked before this.
   */
  async codesForLines(lineIds: readonly string[], viewer: Viewer): Promise<Map<string, VoucherCodeView[]>> {
    const byLine = new Map<string, VoucherCodeView[]>(lineIds.map((id) => [id, []]));
    if (!lineIds.length) return byLine;
    const rows = (await this.db.query(`SELECT ${ISSUED_COLUMNS} FROM voucher_codes v WHERE v.order_line_id = ANY($1::uuid[]) ORDER BY v.order_line_id, v.unit`, [
      [...new Set(lineIds)],
    ])) as IssuedRow[];
    for (const row of rows) {
      const code = canSeeWholeCode(viewer, row) ? this.cipher.decrypt(row.codeEncrypted, row.rewardId) : null;
      byLine.get(row.orderLineId)?.push({ id: row.id, unit: row.unit, masked: maskCode(row.codeTail), code, assignedAt: row.assignedAt });
    }
    return byLine;
  }
}

/** Pool counts of several rewards in one statement, in key order (a reward without codes: all zero). */
export async function voucherPoolCounts(db: DataSource, rewardIds: readonly string[]): Promise<VoucherPoolCounts[]> {
  const rows = (await db.query(
    `SELECT reward_id AS "rewardId", count(*)::int AS total, (count(*) FILTER (WHERE status = 'AVAILABLE'))::int AS available,
       (count(*) FILTER (WHERE status = 'ASSIGNED'))::int AS assigned
     FROM voucher_codes WHERE reward_id = ANY($1::uuid[]) GROUP BY reward_id`,
    [[...new Set(rewardIds)]],
  )) as (VoucherPoolCounts & { rewardId: string })[];
  const found = new Map(rows.map(({ rewardId, ...counts }) => [rewardId, counts]));
  return rewardIds.map((id) => found.get(id) ?? { total: 0, available: 0, assigned: 0 });
}

/** The key for a process started without CATALOG_CODE_KEY outside production: one per process. */
let processKey: Buffer | null = null;

/**
 * The codes' cipher from CATALOG_CODE_KEY (base64 of 32 bytes). Production refuses to start
 * without it: codes encrypted with a key nobody kept are lost value. Elsewhere a random key is made
 * for this process, with a warning: codes imported now are unreadable after a restart (`pnpm dev`
 * keeps its key in .catalog-code-key so its demo codes survive).
 */
export function voucherCipherFromEnv(env: Record<string, string | undefined>, logger: Pick<Logger, 'warn'>): VoucherCipher {
  const value = env['CATALOG_CODE_KEY'];
  if (value) return new VoucherCipher(parseCodeKey(value));
  if (env['NODE_ENV'] === 'production') {
    throw new Error('CATALOG_CODE_KEY is required in production: base64 of 32 random bytes (`openssl rand -base64 32`), kept as a secret; voucher codes are encrypted with it');
  }
  if (!processKey) {
    processKey = randomBytes(32);
    logger.warn('CATALOG_CODE_KEY is not set: voucher codes are encrypted with a random key for this process and will be unreadable after a restart');
  }
  return new VoucherCipher(processKey);
}
