import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { membersEvents } from '../contracts/members';
import { selectList } from '../db';
import { consume, type Consumption } from '../events/contract';
import { isUuid } from '../ids';
import type { EventEnvelope } from '../events/envelope';

/**
 * What a subgraph other than members knows about a member: enough to decide whether they may earn
 * or spend, in which program, at which tier and in which member groups. Kept from members' events
 * in the subgraph's own database (a projection), so the subgraph keeps working while members is
 * down.
 */
export interface MemberSnapshot {
  id: string;
  programId: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
  tierId: string | null;
  /**
   * The member groups they are in (sorted); null while not known: a row from before group events
   * whose member has not joined or left a group since (see MemberSnapshotGroups1796700000000). A
   * consumer never takes null as membership of any group.
   */
  groupIds: string[] | null;
  /**
   * Granted PARTNER_SHARING (partners may see the member's data) on any channel; false until known
   * (no ConsentsChanged seen yet): a consumer never shares on a guess.
   */
  sharesWithPartners: boolean;
  /** Granted PARTNER_MARKETING (partners' offers) on any channel; false until known, like sharesWithPartners. */
  partnerMarketing: boolean;
}

const snapshotColumns = selectList<MemberSnapshot>({
  id: 'member_id',
  programId: 'program_id',
  status: 'status',
  tierId: 'tier_id',
  groupIds: 'group_ids::text[]',
  sharesWithPartners: 'shares_with_partners',
  partnerMarketing: 'partner_marketing',
});

/** What a member's whole consent set says for the snapshot: a purpose counts when granted on any channel. */
export function consentFacts(consents: readonly { purpose: string; granted: boolean }[]): Pick<MemberSnapshot, 'sharesWithPartners' | 'partnerMarketing'> {
  const granted = (purpose: string) => consents.some((c) => c.purpose === purpose && c.granted);
  return { sharesWithPartners: granted('PARTNER_SHARING'), partnerMarketing: granted('PARTNER_MARKETING') };
}

/** Ids → snapshots in the same order, null for members nobody knows. */
export type MemberDirectory = (ids: readonly string[]) => Promise<(MemberSnapshot | null)[]>;

/**
 * The projection's table. `version` is the member's aggregate version at the last applied event:
 * an event older than what the row already shows (a rewind that did not empty the table) changes
 * nothing.
 */
export class MemberSnapshots1764400000000 implements MigrationInterface {
  name = 'MemberSnapshots1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member_snapshots (
        member_id uuid PRIMARY KEY,
        program_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CLOSED')),
        tier_id uuid,
        version int NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE member_snapshots`);
  }
}

/**
 * The login subject of members who enrolled themselves, so a member token that carries only its
 * subject is tied to its member here, without asking members (`snapshotIdentity`). Unique per
 * program, as in members: one subject can never stand for two members of a program.
 */
export class MemberSnapshotSubjects1764600000000 implements MigrationInterface {
  name = 'MemberSnapshotSubjects1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_snapshots ADD COLUMN subject text`);
    await q.query(`CREATE UNIQUE INDEX member_snapshots_program_subject ON member_snapshots (program_id, subject) WHERE subject IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX member_snapshots_program_subject`);
    await q.query(`ALTER TABLE member_snapshots DROP COLUMN subject`);
  }
}

/**
 * The member's groups, from MemberJoinedGroup and MemberLeftGroup (each carries the whole set
 * after the change). A member enrolled from now on starts with none (known, empty); the rows
 * already there are null, unknown, because members' groups were never announced before: they
 * become known at the member's next group change, or at once when the members subgraph's
 * MemberGroupsAnnounced1796700000001 migration announces the memberships it holds (delivered as
 * ordinary events at the member's next versions, so no replay is needed). Rebuilding an emptied
 * projection from the start of the feed (`consumer.rewind(0, { forget: true })`, docs/events.md)
 * also ends with every row's groups known. A rewind that does not empty the table changes
 * nothing here (the rows' versions are ahead of what it redelivers).
 */
export class MemberSnapshotGroups1796700000000 implements MigrationInterface {
  name = 'MemberSnapshotGroups1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_snapshots ADD COLUMN group_ids uuid[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_snapshots DROP COLUMN group_ids`);
  }
}

/**
 * The member's consents to partners, from ConsentsChanged (each carries the whole current set).
 * Every row starts false: a member enrolled with consents has their ConsentsChanged right after
 * MemberEnrolled, and members who decided before the event existed are announced by the members
 * subgraph's ConsentsAnnounced1796820000001 migration (ordinary events at the member's next
 * versions). Until then false is the safe answer: no partner sees or markets to them.
 */
export class MemberSnapshotConsents1796820000000 implements MigrationInterface {
  name = 'MemberSnapshotConsents1796820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_snapshots ADD COLUMN shares_with_partners boolean NOT NULL DEFAULT false, ADD COLUMN partner_marketing boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member_snapshots DROP COLUMN shares_with_partners, DROP COLUMN partner_marketing`);
  }
}

/** The member a login subject enrolled as, in a program, from the projection; null when it holds none. */
export async function snapshotMemberIdBySubject(db: DataSource, programId: string, subject: string): Promise<string | null> {
  if (!isUuid(programId)) return null;
  const rows = (await db.query(`SELECT member_id AS "memberId" FROM member_snapshots WHERE program_id = $1 AND subject = $2`, [programId, subject])) as { memberId: string }[];
  return rows[0]?.memberId ?? null;
}

async function update(tx: EntityManager, event: EventEnvelope, column: 'status' | 'tier_id' | 'group_ids', value: string | string[] | null): Promise<void> {
  await tx.query(`UPDATE member_snapshots SET ${column} = $2, version = $3, updated_at = $4 WHERE member_id = $1 AND version < $3`, [
    event.aggregateId,
    value,
    event.aggregateVersion,
    event.occurredAt,
  ]);
}

/**
 * The handlers that keep the projection. A row starts with the member's enrolment; status, tier
 * and group changes update it (an event older than the row's version changes nothing). Members
 * enrolled before MemberEnrolled carried the entry tier have no row (their first tier is unknown
 * here) and are read through (see `snapshotDirectory`).
 */
export function memberSnapshotConsumption(): Consumption {
  return consume(membersEvents, {
    async MemberEnrolled(tx, event) {
      const { memberId, programId, tierId, subject } = event.payload;
      if (tierId === undefined) return;
      await tx.query(
        // A member starts in no group: groups are joined after enrolment, each with its event.
        `INSERT INTO member_snapshots (member_id, program_id, status, tier_id, subject, group_ids, version, updated_at) VALUES ($1, $2, 'ACTIVE', $3, $4, '{}', $5, $6)
         ON CONFLICT (member_id) DO NOTHING`,
        [memberId, programId, tierId, subject ?? null, event.aggregateVersion, event.occurredAt],
      );
    },
    MemberStatusChanged: (tx, event) => update(tx, event, 'status', event.payload.toStatus),
    TierChanged: (tx, event) => update(tx, event, 'tier_id', event.payload.toTierId),
    MemberJoinedGroup: (tx, event) => update(tx, event, 'group_ids', event.payload.groupIds),
    MemberLeftGroup: (tx, event) => update(tx, event, 'group_ids', event.payload.groupIds),
    async ConsentsChanged(tx, event) {
      const facts = consentFacts(event.payload.consents);
      await tx.query(`UPDATE member_snapshots SET shares_with_partners = $2, partner_marketing = $3, version = $4, updated_at = $5 WHERE member_id = $1 AND version < $4`, [
        event.aggregateId,
        facts.sharesWithPartners,
        facts.partnerMarketing,
        event.aggregateVersion,
        event.occurredAt,
      ]);
    },
  }, { does: 'keeps the member-snapshot projection (program, status, tier, groups, consents to partners: who may earn and spend, at which tier, in which audiences, seen by or marketed to partners)' });
}

/**
 * Answers from the projection; members the projection does not hold yet are read through from
 * the members subgraph. That covers a purchase right after enrolment, before MemberEnrolled has
 * arrived (delivery takes milliseconds to a second, and a cashier cannot wait), and members from
 * before the projection. What is read through is not stored: only events write the projection,
 * so it never goes back to an older state than it showed. A member the projection holds is
 * answered without members, so known members keep earning while members is down.
 */
export function snapshotDirectory(db: DataSource, readThrough: MemberDirectory): MemberDirectory {
  return async (ids) => {
    const rows = (await db.query(`SELECT ${snapshotColumns} FROM member_snapshots WHERE member_id = ANY($1::uuid[])`, [ids.filter(isUuid)])) as MemberSnapshot[];
    const found = new Map<string, MemberSnapshot | null>(rows.map((row) => [row.id, row]));
    const missing = [...new Set(ids.filter((id) => isUuid(id) && !found.has(id)))];
    if (missing.length) {
      const read = await readThrough(missing);
      missing.forEach((id, i) => found.set(id, read[i] ?? null));
    }
    return ids.map((id) => found.get(id) ?? null);
  };
}
