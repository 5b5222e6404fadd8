import { selectList } from '@loyalty-graph/shared/db';

/** A row of `catalogs` (typed SQL, like rewards: the subgraph has one style of data access). */
export interface CatalogRow {
  id: string;
  programId: string;
  name: string;
  tierIds: string[];
  memberGroupIds: string[];
  /** Analytics' segments whose members see it. */
  segmentIds: string[];
  createdAt: Date;
}

export const catalogColumns = selectList<CatalogRow>({
  id: 'c.id',
  programId: 'c.program_id',
  name: 'c.name',
  tierIds: 'c.tier_ids::text[]',
  memberGroupIds: 'c.member_group_ids::text[]',
  segmentIds: 'c.segment_ids::text[]',
  createdAt: 'c.created_at',
});

/** A row of `catalog_rewards`: one reward's place in one catalog. */
export interface CatalogRewardRow {
  catalogId: string;
  rewardId: string;
  position: number;
}
