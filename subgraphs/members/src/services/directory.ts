import { decodeInstantIdCursor, InputError, isUuid, encodeCursor, forbidden, pageSize, toConnection, type Connection, type PageArgs, type Viewer } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { MemberEntity, type MemberStatus } from '../entities/member';
import { GroupMembershipEntity, MemberGroupEntity } from '../entities/member-group';
import { MemberIdentifierEntity, type IdentifierType } from '../entities/member-identifier';
import { ProgramEntity } from '../entities/program';
import { TierEntity } from '../entities/tier';
import { MAX_IDENTIFIER_LOOKUPS, normalizeIdentifier } from '../domain/identifiers';
import { canListEveryProgram, canManageMembers } from '../domain/policy';

/** Read side: lists with keyset pagination and the till's identifier lookup. */
export class DirectoryService {
  constructor(private readonly db: DataSource) {}

  /**
   * The till's lookup: one statement, one probe of the (program, type, value) unique index, with
   * the member's tier joined in so the caller can prime its tier loader.
   */
  async memberByIdentifier(viewer: Viewer, programId: string, type: IdentifierType, raw: string): Promise<{ member: MemberEntity; tier: TierEntity | null } | null> {
    if (!canManageMembers(viewer, programId)) throw forbidden('You can look up members only in your own program');
    const value = normalizeIdentifier(type, raw);
    const found = (await this.db
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .innerJoin(MemberIdentifierEntity, 'i', 'i.member_id = m.id')
      // The tier comes along as an entity of its own (TypeORM maps it onto `tier`), in the same statement.
      .leftJoinAndMapOne('m.tier', TierEntity, 't', 't.id = m.tier_id')
      .where('i.program_id = :programId AND i.type = :type AND i.value = :value', { programId, type, value })
      .getOne()) as (MemberEntity & { tier?: TierEntity | null }) | null;
    if (!found) return null;
    const { tier = null, ...member } = found;
    return { member: Object.assign(new MemberEntity(), member), tier };
  }

  /**
   * The till's lookup in bulk: the member id for each identifier, in input order; null for an
   * identifier nobody in the program has, or one that is not valid for its type (the caller
   * reports either as "no such member", never which). One statement: the identifiers are joined
   * against the (program, type, value) unique index as arrays.
   */
  async memberIdsByIdentifiers(viewer: Viewer, programId: string, identifiers: { type: IdentifierType; value: string }[]): Promise<(string | null)[]> {
    if (!canManageMembers(viewer, programId)) throw forbidden('You can look up members only in your own program');
    if (identifiers.length > MAX_IDENTIFIER_LOOKUPS) throw new InputError(`At most ${MAX_IDENTIFIER_LOOKUPS} identifiers`, 'identifiers');
    const keys = identifiers.map(({ type, value }) => {
      try {
        return { type, value: normalizeIdentifier(type, value) };
      } catch (error) {
        if (error instanceof InputError) return null;
        throw error;
      }
    });
    const valid = keys.filter((k): k is { type: IdentifierType; value: string } => k !== null);
    if (valid.length === 0) return keys.map(() => null);
    const rows = (await this.db.query(
      `SELECT i.type, i.value, i.member_id FROM member_identifiers i
       JOIN unnest($2::text[], $3::text[]) AS wanted(type, value) ON i.type = wanted.type AND i.value = wanted.value
       WHERE i.program_id = $1`,
      [programId, valid.map((k) => k.type), valid.map((k) => k.value)],
    )) as { type: string; value: string; member_id: string }[];
    const found = new Map(rows.map((r) => [`${r.type}\u0000${r.value}`, r.member_id]));
    return keys.map((k) => (k ? (found.get(`${k.type}\u0000${k.value}`) ?? null) : null));
  }

  /**
   * A partner's lookup (members:lookup): the minimised view of an ACTIVE member of the partner's
   * own program who granted PARTNER_SHARING on some channel, found by a verified identifier. Every
   * other case (nobody has it, another program's member, not consenting, suspended or closed)
   * is the same null, decided in one statement, so the answer never tells which.
   */
  async partnerMemberLookup(viewer: Viewer, type: IdentifierType, raw: string): Promise<{ memberId: string; canEarn: boolean; tierName: string | null } | null> {
    // @access lets only partner keys with members:lookup in; their program is the key's.
    if (viewer.kind !== 'PARTNER' || !viewer.programId) throw forbidden('Partners only');
    const value = normalizeIdentifier(type, raw);
    const rows = (await this.db.query(
      `SELECT m.id AS "memberId", m.status = 'ACTIVE' AS "canEarn", t.name AS "tierName"
       FROM member_identifiers i JOIN members m ON m.id = i.member_id LEFT JOIN tiers t ON t.id = m.tier_id
       WHERE i.program_id = $1 AND i.type = $2 AND i.value = $3 AND m.program_id = $1 AND m.status = 'ACTIVE'
         AND EXISTS (SELECT 1 FROM consents c WHERE c.member_id = m.id AND c.purpose = 'PARTNER_SHARING' AND c.granted)`,
      [viewer.programId, type, value],
    )) as { memberId: string; canEarn: boolean; tierName: string | null }[];
    return rows[0] ?? null;
  }

  /** Newest enrolment first. */
  async members(viewer: Viewer, programId: string, status: MemberStatus | null | undefined, page: PageArgs): Promise<Connection<MemberEntity>> {
    if (!canManageMembers(viewer, programId)) throw forbidden('You can list members only in your own program');
    const limit = pageSize(page.first);
    const after = decodeInstantIdCursor(page.after);
    const query = this.db.getRepository(MemberEntity).createQueryBuilder('m').where('m.program_id = :programId', { programId });
    if (status) query.andWhere('m.status = :status', { status });
    if (after) query.andWhere('(m.enrolled_at, m.id) < (:at, :id)', { at: after[0], id: after[1] });
    const rows = await query.orderBy('m.enrolled_at', 'DESC').addOrderBy('m.id', 'DESC').limit(limit + 1).getMany();
    return toConnection(rows, limit, (m) => encodeCursor([m.enrolledAt.toISOString(), m.id]));
  }

  /** Operators see every program; everyone else only their own. */
  async programs(viewer: Viewer, page: PageArgs): Promise<Connection<ProgramEntity>> {
    const limit = pageSize(page.first);
    const after = decodeInstantIdCursor(page.after);
    const query = this.db.getRepository(ProgramEntity).createQueryBuilder('p');
    if (!canListEveryProgram(viewer)) query.where('p.id = :id', { id: viewer.programId });
    if (after) query.andWhere('(p.created_at, p.id) > (:at, :id2)', { at: after[0], id2: after[1] });
    const rows = await query.orderBy('p.created_at', 'ASC').addOrderBy('p.id', 'ASC').limit(limit + 1).getMany();
    return toConnection(rows, limit, (p) => encodeCursor([p.createdAt.toISOString(), p.id]));
  }

  async groups(viewer: Viewer, programId: string, page: PageArgs): Promise<Connection<MemberGroupEntity>> {
    if (!canManageMembers(viewer, programId)) throw forbidden('You can list groups only in your own program');
    const limit = pageSize(page.first);
    const after = decodeInstantIdCursor(page.after);
    const query = this.db.getRepository(MemberGroupEntity).createQueryBuilder('g').where('g.program_id = :programId', { programId });
    if (after) query.andWhere('(g.created_at, g.id) > (:at, :id)', { at: after[0], id: after[1] });
    const rows = await query.orderBy('g.created_at', 'ASC').addOrderBy('g.id', 'ASC').limit(limit + 1).getMany();
    return toConnection(rows, limit, (g) => encodeCursor([g.createdAt.toISOString(), g.id]));
  }

  async groupMembers(group: MemberGroupEntity, page: PageArgs): Promise<Connection<MemberEntity>> {
    const limit = pageSize(page.first);
    const after = decodeInstantIdCursor(page.after);
    const query = this.db
      .getRepository(MemberEntity)
      .createQueryBuilder('m')
      .innerJoin(GroupMembershipEntity, 'gm', 'gm.member_id = m.id')
      .addSelect('gm.joined_at', 'joined_at')
      .where('gm.group_id = :groupId', { groupId: group.id });
    if (after) query.andWhere('(gm.joined_at, m.id) > (:at, :id)', { at: after[0], id: after[1] });
    const { entities, raw } = await query.orderBy('gm.joined_at', 'ASC').addOrderBy('m.id', 'ASC').limit(limit + 1).getRawAndEntities<{ joined_at: Date }>();
    const joinedAt = new Map(entities.map((m, i) => [m.id, raw[i]!.joined_at]));
    return toConnection(entities, limit, (m) => encodeCursor([joinedAt.get(m.id)!.toISOString(), m.id]));
  }

  /**
   * The member a login subject enrolled as in a program (one probe of the unique (program_id,
   * subject) index): the subgraph kit's member identity for members (docs/identity.md).
   */
  async memberIdBySubject(programId: string, subject: string): Promise<string | null> {
    if (!isUuid(programId)) return null;
    const rows = (await this.db.query(`SELECT id FROM members WHERE program_id = $1 AND subject = $2`, [programId, subject])) as { id: string }[];
    return rows[0]?.id ?? null;
  }
}
