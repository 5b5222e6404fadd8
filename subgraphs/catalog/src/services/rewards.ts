import { DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource, EntityManager } from 'typeorm';
import { rewardColumns, type RewardChange, type RewardRow, type RewardType } from '../entities';
import { checkInt, checkUuid, LIMITS } from '../domain/limits';
import { canManageCatalog } from '../domain/policy';
import { checkRewardDetails, type RewardDetails, type RewardDetailsInput } from '../domain/rewards';

/** PostgreSQL int: the stock counters' ceiling (checked in SQL, so a caller never meets an overflow error). */
export const MAX_COUNTER = 2_147_483_647;

const REWARD_TYPES: readonly RewardType[] = ['PHYSICAL', 'E_VOUCHER', 'EXPERIENCE', 'PARTNER_SERVICE', 'CHARITY'];

/** Creating, changing, retiring and restocking rewards; every change writes its version in the same transaction. */
export class RewardService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(viewer: Viewer, input: { idempotencyKey: string; programId: string; type: RewardType; stock?: number | null; details: RewardDetailsInput }): Promise<{ rewardId: string }> {
    const programId = checkUuid(input.programId, 'programId');
    if (!canManageCatalog(viewer, programId)) throw forbidden('Only the program’s administrators manage its rewards');
    if (!REWARD_TYPES.includes(input.type)) throw new InputError('type is not a reward type', 'type');
    const now = this.clock.now();
    const details = checkRewardDetails(input.type, input.details, now);
    let stock = input.stock === null || input.stock === undefined ? null : checkInt(input.stock, 'stock', 0, LIMITS.stockUnits);
    // An E_VOUCHER's stock is the codes in its pool: it starts at 0 and grows only by importVoucherCodes.
    if (input.type === 'E_VOUCHER') {
      if (stock) throw new InputError('an E_VOUCHER’s stock is its codes: omit stock (or give 0) and import codes', 'stock');
      stock = 0;
    }
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId, key: idempotencyKey, operation: 'createReward', input: request },
      async (tx) => {
        const [row] = (await tx.query(
          `INSERT INTO rewards (program_id, type, status, stock_received, version, created_at, updated_at, ${DETAIL_COLUMNS})
           VALUES ($1, $2, 'ACTIVE', $3, 1, $4, $4, ${detailPlaceholders(5)}) RETURNING id`,
          [programId, input.type, stock, now, ...detailValues(details)],
        )) as { id: string }[];
        await recordVersion(tx, row!.id, 'CREATED', viewer, now);
        return { rewardId: row!.id };
      },
      this.clock,
    );
    return result;
  }

  async update(viewer: Viewer, input: { rewardId: string; details: RewardDetailsInput }): Promise<{ rewardId: string }> {
    return this.change(viewer, input.rewardId, 'UPDATED', async (tx, reward, now) => {
      if (reward.status === 'RETIRED') throw new DomainError('REWARD_RETIRED', 'A retired reward cannot be changed', 'rewardId');
      const details = checkRewardDetails(reward.type, input.details, now);
      await tx.query(
        `UPDATE rewards SET (${DETAIL_COLUMNS}) = (${detailPlaceholders(3)}), version = version + 1, updated_at = $2 WHERE id = $1`,
        [reward.id, now, ...detailValues(details)],
      );
      return true;
    });
  }

  async retire(viewer: Viewer, rewardId: string): Promise<{ rewardId: string }> {
    return this.change(viewer, rewardId, 'RETIRED', async (tx, reward, now) => {
      if (reward.status === 'RETIRED') return false;
      await tx.query(`UPDATE rewards SET status = 'RETIRED', version = version + 1, updated_at = $2 WHERE id = $1`, [reward.id, now]);
      return true;
    });
  }

  async receiveStock(viewer: Viewer, input: { idempotencyKey: string; rewardId: string; units: number }): Promise<{ rewardId: string }> {
    const rewardId = checkUuid(input.rewardId, 'rewardId');
    const units = checkInt(input.units, 'units', 1, LIMITS.stockUnits);
    const reward = await this.manageable(viewer, rewardId);
    // Units without codes would be sold and then have no code to issue: codes bring their own stock.
    if (reward.type === 'E_VOUCHER') throw new DomainError('STOCK_FROM_CODES', 'An E_VOUCHER’s stock is its codes: import them with importVoucherCodes', 'rewardId');
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId: reward.programId, key: idempotencyKey, operation: 'receiveRewardStock', input: request },
      async (tx) => {
        const now = this.clock.now();
        // One atomic increment: concurrent receipts and orders never overwrite each other's counts.
        const updated = (await tx.query(
          `UPDATE rewards SET stock_received = stock_received + $2, version = version + 1, updated_at = $3
           WHERE id = $1 AND status = 'ACTIVE' AND stock_received IS NOT NULL AND stock_received::bigint + $2 <= ${MAX_COUNTER} RETURNING id`,
          [rewardId, units, now],
        )) as [{ id: string }[], number];
        if (updated[1] === 0) {
          const [current] = (await tx.query(`SELECT status, stock_received FROM rewards WHERE id = $1`, [rewardId])) as { status: string; stock_received: number | null }[];
          if (current?.status === 'RETIRED') throw new DomainError('REWARD_RETIRED', 'A retired reward receives no stock', 'rewardId');
          if (current?.stock_received === null) throw new DomainError('STOCK_UNLIMITED', 'This reward’s stock is unlimited', 'rewardId');
          throw new DomainError('STOCK_LIMIT_EXCEEDED', `Received stock stays at most ${MAX_COUNTER.toLocaleString('en-US')} units`, 'units');
        }
        await recordVersion(tx, rewardId, 'STOCK_RECEIVED', viewer, now);
        return { rewardId };
      },
      this.clock,
    );
    return result;
  }

  /** Loads a reward the viewer may manage: unknown is REWARD_NOT_FOUND, another program's FORBIDDEN. */
  private async manageable(viewer: Viewer, rewardId: string, tx: EntityManager | DataSource = this.db, lock = false): Promise<RewardRow> {
    const [reward] = (await tx.query(`SELECT ${rewardColumns} FROM rewards r WHERE r.id = $1${lock ? ' FOR UPDATE' : ''}`, [rewardId])) as RewardRow[];
    if (!reward) throw new DomainError('REWARD_NOT_FOUND', 'There is no such reward', 'rewardId');
    if (!canManageCatalog(viewer, reward.programId)) throw forbidden('Only the program’s administrators manage its rewards');
    return reward;
  }

  /** A locked change of one reward and its version row, in one transaction; `apply` says whether anything changed. */
  private async change(viewer: Viewer, rewardId: string, change: RewardChange, apply: (tx: EntityManager, reward: RewardRow, now: Date) => Promise<boolean>): Promise<{ rewardId: string }> {
    const id = checkUuid(rewardId, 'rewardId');
    await this.manageable(viewer, id);
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const reward = await this.manageable(viewer, id, tx, true);
        const now = this.clock.now();
        if (await apply(tx, reward, now)) await recordVersion(tx, id, change, viewer, now);
        return { rewardId: id };
      }),
    );
  }
}

const DETAIL_COLUMNS =
  'default_locale, translations, points, cash_amount, cash_currency, available_from, available_until, limit_count, limit_days, tier_ids, member_group_ids, experience, partner_id, charity_id, unit_cost_amount, unit_cost_currency';

function detailPlaceholders(first: number): string {
  const casts = ['', '::jsonb', '', '', '', '', '', '', '', '::uuid[]', '::uuid[]', '::jsonb', '', '::uuid', '::numeric', ''];
  return casts.map((cast, i) => `$${first + i}${cast}`).join(', ');
}

function detailValues(d: RewardDetails): unknown[] {
  return [
    d.defaultLocale,
    JSON.stringify(d.translations),
    d.points,
    d.cashAmount,
    d.cashCurrency,
    d.availableFrom,
    d.availableUntil,
    d.limitCount,
    d.limitDays,
    d.tierIds,
    d.memberGroupIds,
    d.experience ? JSON.stringify(d.experience) : null,
    d.partnerId,
    d.charityId,
    d.unitCostAmount,
    d.unitCostCurrency,
  ];
}

/** The reward's row as it is now in this transaction, written as its version. */
export async function recordVersion(tx: EntityManager, rewardId: string, change: RewardChange, viewer: Viewer, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO reward_versions (reward_id, version, change, changed_by, changed_at, snapshot)
     SELECT r.id, r.version, $2, $3, $4, to_jsonb(s) FROM rewards r, LATERAL (SELECT ${rewardColumns}) s WHERE r.id = $1`,
    [rewardId, change, viewer.subject ?? 'unknown', now],
  );
}
