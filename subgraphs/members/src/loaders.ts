import DataLoader from 'dataloader';
import { entitiesById, groupedBy, inKeyOrder } from '@loyalty-graph/shared/db';
import { In, type DataSource } from 'typeorm';
import { ConsentEntity } from './entities/consent';
import { ConsentChangeEntity } from './entities/consent-change';
import { MemberEntity } from './entities/member';
import { GroupMembershipEntity, MemberGroupEntity } from './entities/member-group';
import { IdentifierVerificationEntity } from './entities/identifier-verification';
import { MemberIdentifierEntity } from './entities/member-identifier';
import { MemberStatusChangeEntity } from './entities/member-status-change';
import { referralColumns, type ReferralRow } from './entities/referral';
import { ProgramEntity } from './entities/program';
import { TierEntity } from './entities/tier';
import { TierChangeEntity } from './entities/tier-change';
import type { ProgramSettingsService } from './services/program-settings';

/** Built per request (never shared between users: a loader's cache is per viewer). */
export function createLoaders(db: DataSource, settings: ProgramSettingsService) {
  const history = { changedAt: 'DESC' as const, id: 'DESC' as const };
  return {
    programById: entitiesById(db.getRepository(ProgramEntity)),
    tierById: entitiesById(db.getRepository(TierEntity)),
    memberById: entitiesById(db.getRepository(MemberEntity)),
    groupById: entitiesById(db.getRepository(MemberGroupEntity)),
    settingsByProgramId: new DataLoader((ids: readonly string[]) => settings.getMany(ids)),
    /** Keyed `memberId|start ISO|end ISO`: a member's status points in one qualification period. */
    statusPoints: new DataLoader<string, number>(async (keys) => {
      const parts = keys.map((key) => key.split('|') as [string, string, string]);
      const rows = (await db.query(
        `SELECT k.n, coalesce(sum(p.points), 0)::text AS points
         FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS k(member_id, start_at, end_at, n)
         LEFT JOIN status_points p ON p.member_id = k.member_id AND p.earned_at >= k.start_at AND p.earned_at < k.end_at
         GROUP BY k.n`,
        [parts.map((p) => p[0]), parts.map((p) => p[1]), parts.map((p) => p[2])],
      )) as { n: string; points: string }[];
      const byIndex = new Map(rows.map((row) => [Number(row.n), Number(row.points)]));
      return keys.map((_key, i) => byIndex.get(i + 1) ?? 0);
    }),
    referralsByReferrerId: groupedBy(
      // The newest 200 per referrer (what the schema promises), however many a member brought in.
      async (ids) =>
        (await db.query(
          `SELECT ${referralColumns} FROM (
             SELECT *, row_number() OVER (PARTITION BY referrer_id ORDER BY created_at DESC, id) AS n FROM referrals WHERE referrer_id = ANY($1::uuid[])
           ) r WHERE r.n <= 200 ORDER BY r.created_at DESC, r.id`,
          [ids],
        )) as ReferralRow[],
      (row) => row.referrerId,
    ),
    referralByRefereeId: new DataLoader<string, ReferralRow | null>(async (ids) =>
      inKeyOrder(ids, (await db.query(`SELECT ${referralColumns} FROM referrals r WHERE r.referee_id = ANY($1::uuid[])`, [ids])) as ReferralRow[], (row) => row.refereeId),
    ),
    tiersByProgramId: groupedBy(
      (ids) => db.getRepository(TierEntity).find({ where: { programId: In(ids) }, order: { rank: 'ASC' } }),
      (tier) => tier.programId,
    ),
    identifiersByMemberId: groupedBy(
      (ids) => db.getRepository(MemberIdentifierEntity).find({ where: { memberId: In(ids) }, order: { addedAt: 'ASC', type: 'ASC' } }),
      (row) => row.memberId,
    ),
    pendingIdentifiersByMemberId: groupedBy(
      (ids) => db.getRepository(IdentifierVerificationEntity).find({ where: { memberId: In(ids) }, order: { requestedAt: 'ASC', type: 'ASC' } }),
      (row) => row.memberId,
    ),
    tierChangesByMemberId: groupedBy(
      (ids) => db.getRepository(TierChangeEntity).find({ where: { memberId: In(ids) }, order: { changedAt: 'DESC', seq: 'DESC' } }),
      (row) => row.memberId,
    ),
    statusChangesByMemberId: groupedBy(
      (ids) => db.getRepository(MemberStatusChangeEntity).find({ where: { memberId: In(ids) }, order: history }),
      (row) => row.memberId,
    ),
    consentsByMemberId: groupedBy(
      (ids) => db.getRepository(ConsentEntity).find({ where: { memberId: In(ids) }, order: { channel: 'ASC', purpose: 'ASC' } }),
      (row) => row.memberId,
    ),
    consentChangesByMemberId: groupedBy(
      (ids) => db.getRepository(ConsentChangeEntity).find({ where: { memberId: In(ids) }, order: history }),
      (row) => row.memberId,
    ),
    groupsByMemberId: groupedBy(
      async (ids) => {
        const rows = await db
          .getRepository(MemberGroupEntity)
          .createQueryBuilder('g')
          .innerJoin(GroupMembershipEntity, 'gm', 'gm.group_id = g.id')
          .addSelect('gm.member_id', 'member_id')
          .where('gm.member_id IN (:...ids)', { ids })
          .orderBy('g.name', 'ASC')
          .getRawAndEntities<{ g_id: string; member_id: string }>();
        // TypeORM returns each group entity once, however many members of the batch are in it;
        // the raw rows keep one row per membership, so pair by group id, not by position.
        const groupById = new Map(rows.entities.map((group) => [group.id, group]));
        return rows.raw.map((row) =>
          Object.assign(Object.create(MemberGroupEntity.prototype) as MemberGroupEntity, groupById.get(row.g_id)!, { memberId: row.member_id }),
        );
      },
      (row) => (row as MemberGroupEntity & { memberId: string }).memberId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
