import { DomainError, forbidden, InputError, type Clock, type Viewer } from '@loyalty-graph/shared';
import { idempotent, withRetries } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { catalogColumns, type CatalogRow } from '../entities';
import type { RewardEligibilityValue } from '../domain/eligibility';
import { checkAudienceIds, checkText, checkUuid, LIMITS } from '../domain/limits';
import { canManageCatalog } from '../domain/policy';

export interface MemberCatalogValue {
  catalog: CatalogRow;
  rewards: RewardEligibilityValue[];
}

/** Dedicated catalogs: creating them and their ordered rewards. */
export class CatalogService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async create(
    viewer: Viewer,
    input: { idempotencyKey: string; programId: string; name: string; tierIds?: readonly string[] | null; memberGroupIds?: readonly string[] | null; segmentIds?: readonly string[] | null },
  ): Promise<{ catalogId: string }> {
    const programId = checkUuid(input.programId, 'programId');
    if (!canManageCatalog(viewer, programId)) throw forbidden('Only the program’s administrators manage its catalogs');
    const name = checkText(input.name, 'name', LIMITS.catalogNameLength);
    const tierIds = checkAudienceIds(input.tierIds, 'tierIds');
    const memberGroupIds = checkAudienceIds(input.memberGroupIds, 'memberGroupIds');
    const segmentIds = checkAudienceIds(input.segmentIds, 'segmentIds');
    const { idempotencyKey, ...request } = input;
    const { result } = await idempotent(
      this.db,
      { programId, key: idempotencyKey, operation: 'createCatalog', input: request },
      async (tx) => {
        const [row] = (await tx.query(
          `INSERT INTO catalogs (program_id, name, tier_ids, member_group_ids, segment_ids, created_at) VALUES ($1, $2, $3::uuid[], $4::uuid[], $5::uuid[], $6) RETURNING id`,
          [programId, name, tierIds, memberGroupIds, segmentIds, this.clock.now()],
        )) as { id: string }[];
        return { catalogId: row!.id };
      },
      this.clock,
    );
    return result;
  }

  /**
   * Changes a catalog's name and audience; absent fields are unchanged, a list given replaces the
   * old one ([] empties it). Under the catalog's row lock; the same change twice is the same catalog.
   */
  async update(
    viewer: Viewer,
    input: { catalogId: string; name?: string | null; tierIds?: readonly string[] | null; memberGroupIds?: readonly string[] | null; segmentIds?: readonly string[] | null },
  ): Promise<{ catalogId: string }> {
    const catalogId = checkUuid(input.catalogId, 'catalogId');
    const name = input.name == null ? null : checkText(input.name, 'name', LIMITS.catalogNameLength);
    const tierIds = input.tierIds == null ? null : checkAudienceIds(input.tierIds, 'tierIds');
    const memberGroupIds = input.memberGroupIds == null ? null : checkAudienceIds(input.memberGroupIds, 'memberGroupIds');
    const segmentIds = input.segmentIds == null ? null : checkAudienceIds(input.segmentIds, 'segmentIds');
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        const [catalog] = (await tx.query(`SELECT ${catalogColumns} FROM catalogs c WHERE c.id = $1 FOR UPDATE`, [catalogId])) as CatalogRow[];
        if (!catalog) throw new DomainError('CATALOG_NOT_FOUND', 'There is no such catalog', 'catalogId');
        if (!canManageCatalog(viewer, catalog.programId)) throw forbidden('Only the program’s administrators manage its catalogs');
        await tx.query(`UPDATE catalogs SET name = $2, tier_ids = $3::uuid[], member_group_ids = $4::uuid[], segment_ids = $5::uuid[] WHERE id = $1`, [
          catalogId,
          name ?? catalog.name,
          tierIds ?? catalog.tierIds,
          memberGroupIds ?? catalog.memberGroupIds,
          segmentIds ?? catalog.segmentIds,
        ]);
        return { catalogId };
      }),
    );
  }

  /** Replaces the catalog's list; every id must be a reward of the catalog's program (retired ones included: they show as RETIRED). */
  async setRewards(viewer: Viewer, input: { catalogId: string; rewardIds: readonly string[] }): Promise<{ catalogId: string }> {
    const catalogId = checkUuid(input.catalogId, 'catalogId');
    if (input.rewardIds.length > LIMITS.catalogRewards) throw new InputError(`rewardIds may list at most ${LIMITS.catalogRewards} rewards`, 'rewardIds');
    const rewardIds = input.rewardIds.map((id, i) => checkUuid(id, `rewardIds.${i}`));
    const twice = rewardIds.findIndex((id, i) => rewardIds.indexOf(id) !== i);
    if (twice >= 0) throw new InputError('a reward may be listed once', `rewardIds.${twice}`);
    return withRetries(() =>
      this.db.transaction(async (tx) => {
        // Locks the catalog: two lists set at once are applied one after the other, never mixed.
        const [catalog] = (await tx.query(`SELECT ${catalogColumns} FROM catalogs c WHERE c.id = $1 FOR UPDATE`, [catalogId])) as CatalogRow[];
        if (!catalog) throw new DomainError('CATALOG_NOT_FOUND', 'There is no such catalog', 'catalogId');
        if (!canManageCatalog(viewer, catalog.programId)) throw forbidden('Only the program’s administrators manage its catalogs');
        const found = (await tx.query(`SELECT id FROM rewards WHERE id = ANY($1::uuid[]) AND program_id = $2`, [rewardIds, catalog.programId])) as { id: string }[];
        const known = new Set(found.map((row) => row.id));
        const missing = rewardIds.findIndex((id) => !known.has(id));
        if (missing >= 0) throw new DomainError('REWARD_NOT_FOUND', `${rewardIds[missing]} is not a reward of this program`, `rewardIds.${missing}`);
        await tx.query(`DELETE FROM catalog_rewards WHERE catalog_id = $1`, [catalogId]);
        if (rewardIds.length) {
          await tx.query(`INSERT INTO catalog_rewards (catalog_id, reward_id, position) SELECT $1, id, ord FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, ord)`, [catalogId, rewardIds]);
        }
        return { catalogId };
      }),
    );
  }
}

/** Every reward of the member's catalogs once, in catalog order (the first catalog listing it decides its place). */
export function eligibleRewards(catalogs: readonly MemberCatalogValue[]): RewardEligibilityValue[] {
  const seen = new Set<string>();
  return catalogs.flatMap((c) => c.rewards).filter((e) => !seen.has(e.reward.id) && Boolean(seen.add(e.reward.id)));
}
