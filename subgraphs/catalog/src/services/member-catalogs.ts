import { forbidden, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import type { DataSource } from 'typeorm';
import { catalogColumns, rewardColumns, type CatalogRow, type RewardRow } from '../entities';
import { eligibility, inAudience, type MemberFacts } from '../domain/eligibility';
import { canReadMemberCatalogs } from '../domain/policy';
import type { MemberCatalogValue } from './catalogs';
import { unitsOrderedInWindow } from './order-limits';
import type { SegmentMemberships } from './segment-memberships';

/** What one member sees in the program's catalogs: their tier and groups from the member snapshots, their points from the caller. */
export class MemberCatalogService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly members: MemberDirectory,
    private readonly segments: SegmentMemberships,
  ) {}

  /**
   * The catalogs this member is in the audience of, each with its rewards and whether the member
   * can order them now. `availablePoints` comes from the ledger through the gateway (@requires).
   */
  async forMember(viewer: Viewer, memberId: string, availablePoints: number): Promise<MemberCatalogValue[]> {
    const [member] = await this.members([memberId]);
    if (!member) return [];
    if (!canReadMemberCatalogs(viewer, member.id, member.programId)) throw forbidden('You can only see your own rewards');
    // Groups from members' group events (null while unknown: then no group is taken as confirmed).
    const facts: MemberFacts = { tierId: member.tierId, availablePoints, groupIds: member.groupIds };
    const all = (await this.db.query(`SELECT ${catalogColumns} FROM catalogs c WHERE c.program_id = $1 ORDER BY c.seq`, [member.programId])) as CatalogRow[];
    // Segments from analytics' events: asked only when some catalog of the program lists segments.
    facts.segmentIds = await this.segments.of(member.id, member.programId, [...new Set(all.flatMap((c) => c.segmentIds))]);
    const catalogs = all.filter((c) => inAudience(c, facts));
    if (!catalogs.length) return [];
    const rows = (await this.db.query(
      `SELECT cr.catalog_id AS "catalogId", ${rewardColumns} FROM catalog_rewards cr JOIN rewards r ON r.id = cr.reward_id WHERE cr.catalog_id = ANY($1::uuid[]) ORDER BY cr.position`,
      [catalogs.map((c) => c.id)],
    )) as (RewardRow & { catalogId: string })[];
    const now = this.clock.now();
    const limited = [...new Set(rows.filter((r) => r.limitCount !== null).map((r) => r.id))];
    if (limited.length) facts.orderedUnits = await unitsOrderedInWindow(this.db.manager, member.id, limited, now);
    return catalogs.map((catalog) => ({
      catalog,
      rewards: rows.filter((row) => row.catalogId === catalog.id).map(({ catalogId: _, ...reward }) => eligibility(reward, facts, now)),
    }));
  }
}
