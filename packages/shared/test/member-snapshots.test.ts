import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@loyalty-graph/shared/db';
import type { EventEnvelope } from '@loyalty-graph/shared/events';
import { memberSnapshotConsumption, MemberSnapshotConsents1796820000000, MemberSnapshotGroups1796700000000, MemberSnapshots1764400000000, MemberSnapshotSubjects1764600000000, snapshotDirectory, snapshotMemberIdBySubject, type MemberDirectory, type MemberSnapshot } from '@loyalty-graph/shared/member-snapshots';
import { createTestDatabase, type TestDatabase } from '@loyalty-graph/testing';
import { identifyMember, rememberingFound, snapshotIdentity, type MemberIdentity } from '@loyalty-graph/shared/subgraph';
import { ANONYMOUS, ManualClock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';

let database: TestDatabase;
let db: DataSource;

beforeAll(async () => {
  database = await createTestDatabase('snapshots');
  db = await openDatabase({ url: database.url, entities: [], migrations: [MemberSnapshots1764400000000, MemberSnapshotSubjects1764600000000, MemberSnapshotGroups1796700000000, MemberSnapshotConsents1796820000000], applicationName: 'snapshots-test', poolSize: 4 });
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const programId = randomUUID();
const [bronze, silver] = [randomUUID(), randomUUID()];
const [teamA, teamB] = [randomUUID(), randomUUID()].sort() as [string, string];
const { handlers } = memberSnapshotConsumption();

/** Applies a members event as the consumer would: in a transaction, through the contract's parsing. */
async function apply(type: string, memberId: string, aggregateVersion: number, payload: Record<string, unknown>): Promise<void> {
  const event: EventEnvelope = {
    id: randomUUID(),
    producer: 'members',
    position: aggregateVersion,
    aggregateType: 'Member',
    aggregateId: memberId,
    aggregateVersion,
    type,
    version: 1,
    payload: { programId, memberId, ...payload },
    occurredAt: new Date().toISOString(),
  };
  await db.transaction((tx) => handlers[type]!(tx, event));
}

const enrolled = (tierId: string | null | undefined) => ({ channel: 'AGENT', referralId: null, enrolledAt: new Date().toISOString(), ...(tierId === undefined ? {} : { tierId }) });
const statusChange = (fromStatus: string, toStatus: string) => ({ fromStatus, toStatus, reason: 'test', changedAt: new Date().toISOString() });
const groupChange = (groupId: string, groupIds: string[]) => ({ groupId, groupIds, at: new Date().toISOString() });
/** What a snapshot says before any ConsentsChanged: nothing shared with or marketed by partners. */
const NO_CONSENT = { sharesWithPartners: false, partnerMarketing: false };
const consents = (...list: [channel: string, purpose: string, granted: boolean][]) => ({ consents: list.map(([channel, purpose, granted]) => ({ channel, purpose, granted })), changedAt: new Date().toISOString() });
const tierChange = (fromTierId: string | null, toTierId: string | null) => ({ fromTierId, toTierId, direction: 'UP', reason: 'QUALIFIED', changedAt: new Date().toISOString() });

/** A read-through that records what it was asked and answers from a map. */
function members(known: Record<string, MemberSnapshot>) {
  const asked: string[][] = [];
  const directory: MemberDirectory = async (ids) => {
    asked.push([...ids]);
    return ids.map((id) => known[id] ?? null);
  };
  return { directory, asked };
}

describe('the member-snapshot projection', () => {
  it('follows enrolment, status and tier changes, and answers known members without asking members', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    const readThrough = members({});
    const directory = snapshotDirectory(db, readThrough.directory);
    expect(await directory([id])).toEqual([{ id, programId, status: 'ACTIVE', tierId: bronze, groupIds: [], ...NO_CONSENT }]);

    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    expect(await directory([id])).toEqual([{ id, programId, status: 'SUSPENDED', tierId: silver, groupIds: [], ...NO_CONSENT }]);
    expect(readThrough.asked).toEqual([]);
  });

  it('never goes back to an older state when an event it already applied comes again', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    // A rewind that did not empty the table delivers the history again.
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    await apply('MemberStatusChanged', id, 2, statusChange('ACTIVE', 'SUSPENDED'));
    await apply('TierChanged', id, 3, tierChange(bronze, silver));
    await apply('TierChanged', id, 2, tierChange(silver, bronze));
    expect(await snapshotDirectory(db, members({}).directory)([id])).toEqual([{ id, programId, status: 'SUSPENDED', tierId: silver, groupIds: [], ...NO_CONSENT }]);
  });

  it('keeps the groups a member joins and leaves, each event carrying the whole set', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    const directory = snapshotDirectory(db, members({}).directory);
    await apply('MemberJoinedGroup', id, 2, groupChange(teamA, [teamA]));
    await apply('MemberJoinedGroup', id, 3, groupChange(teamB, [teamA, teamB]));
    expect(await directory([id])).toEqual([{ id, programId, status: 'ACTIVE', tierId: bronze, groupIds: [teamA, teamB], ...NO_CONSENT }]);
    await apply('MemberLeftGroup', id, 4, groupChange(teamA, [teamB]));
    expect((await directory([id]))[0]?.groupIds).toEqual([teamB]);
    // Replayed older group events (a rewind that did not empty the table) change nothing.
    await apply('MemberJoinedGroup', id, 2, groupChange(teamA, [teamA]));
    await apply('MemberJoinedGroup', id, 3, groupChange(teamB, [teamA, teamB]));
    expect((await directory([id]))[0]?.groupIds).toEqual([teamB]);
    await apply('MemberLeftGroup', id, 5, groupChange(teamB, []));
    expect((await directory([id]))[0]).toEqual({ id, programId, status: 'ACTIVE', tierId: bronze, groupIds: [], ...NO_CONSENT });
  });

  it('holds the groups of a row from before group events as unknown until the member\'s next group event says them all', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    // A row the projection made before it kept groups.
    await db.query(`UPDATE member_snapshots SET group_ids = NULL WHERE member_id = $1`, [id]);
    const directory = snapshotDirectory(db, members({}).directory);
    await apply('TierChanged', id, 2, tierChange(bronze, silver));
    expect(await directory([id])).toEqual([{ id, programId, status: 'ACTIVE', tierId: silver, groupIds: null, ...NO_CONSENT }]);
    // The member was in teamA already (never announced); joining teamB announces both.
    await apply('MemberJoinedGroup', id, 3, groupChange(teamB, [teamA, teamB]));
    expect((await directory([id]))[0]?.groupIds).toEqual([teamA, teamB]);
  });

  it('keeps the consents to partners from ConsentsChanged: any channel counts, false until known, older events change nothing', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    const directory = snapshotDirectory(db, members({}).directory);
    expect((await directory([id]))[0]).toEqual({ id, programId, status: 'ACTIVE', tierId: bronze, groupIds: [], sharesWithPartners: false, partnerMarketing: false });
    await apply('ConsentsChanged', id, 2, consents(['EMAIL', 'PARTNER_SHARING', false], ['PUSH', 'PARTNER_SHARING', true], ['EMAIL', 'MARKETING', true]));
    expect((await directory([id]))[0]).toMatchObject({ sharesWithPartners: true, partnerMarketing: false });
    await apply('ConsentsChanged', id, 3, consents(['PUSH', 'PARTNER_SHARING', false], ['SMS', 'PARTNER_MARKETING', true]));
    expect((await directory([id]))[0]).toMatchObject({ sharesWithPartners: false, partnerMarketing: true });
    // A redelivered older set (a rewind that did not empty the table) does not bring back what was withdrawn.
    await apply('ConsentsChanged', id, 2, consents(['PUSH', 'PARTNER_SHARING', true]));
    expect((await directory([id]))[0]).toMatchObject({ sharesWithPartners: false, partnerMarketing: true });
    await expect(apply('ConsentsChanged', id, 4, consents(['EMAIL', 'GOSSIP', true]))).rejects.toThrow(/purpose/);
  });

  it('refuses a group event whose payload does not match the contract', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, enrolled(bronze));
    await expect(apply('MemberJoinedGroup', id, 2, groupChange(teamA, ['not-a-uuid']))).rejects.toThrow(/groupIds/);
    expect((await snapshotDirectory(db, members({}).directory)([id]))[0]?.groupIds).toEqual([]);
  });

  it('reads through members it does not hold (just enrolled, or from before the projection), in one call, without storing them', async () => {
    const fresh = randomUUID();
    const legacy = randomUUID();
    const unknown = randomUUID();
    // An enrolment event from before MemberEnrolled carried the tier: the first tier is unknown here.
    await apply('MemberEnrolled', legacy, 1, enrolled(undefined));
    await apply('MemberStatusChanged', legacy, 2, statusChange('ACTIVE', 'SUSPENDED'));
    const readThrough = members({
      [fresh]: { id: fresh, programId, status: 'ACTIVE', tierId: bronze, groupIds: [teamA], ...NO_CONSENT },
      [legacy]: { id: legacy, programId, status: 'SUSPENDED', tierId: silver, groupIds: [], ...NO_CONSENT },
    });
    const directory = snapshotDirectory(db, readThrough.directory);
    expect(await directory([fresh, legacy, unknown, fresh, 'not-a-uuid'])).toEqual([
      { id: fresh, programId, status: 'ACTIVE', tierId: bronze, groupIds: [teamA], ...NO_CONSENT },
      { id: legacy, programId, status: 'SUSPENDED', tierId: silver, groupIds: [], ...NO_CONSENT },
      null,
      { id: fresh, programId, status: 'ACTIVE', tierId: bronze, groupIds: [teamA], ...NO_CONSENT },
      null,
    ]);
    expect(readThrough.asked).toEqual([[fresh, legacy, unknown]]);
    const stored = (await db.query(`SELECT member_id FROM member_snapshots WHERE member_id = ANY($1::uuid[])`, [[fresh, legacy, unknown]])) as unknown[];
    expect(stored).toEqual([]);
  });

  it('fails a payload that does not match the contract instead of storing half of it', async () => {
    const id = randomUUID();
    await expect(apply('MemberEnrolled', id, 1, { ...enrolled(bronze), channel: 'CARRIER_PIGEON' })).rejects.toThrow(/channel/);
    expect(await snapshotDirectory(db, members({}).directory)([id])).toEqual([null]);
  });

  it('ties a self-enrolled login subject to its member, within its program only', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, { ...enrolled(bronze), channel: 'SELF', subject: 'idp|ann' });
    expect(await snapshotMemberIdBySubject(db, programId, 'idp|ann')).toBe(id);
    expect(await snapshotMemberIdBySubject(db, randomUUID(), 'idp|ann')).toBeNull();
    expect(await snapshotMemberIdBySubject(db, programId, 'idp|bob')).toBeNull();
    // Staff enrolments carry no subject (null), and events from before the field none at all.
    const byStaff = randomUUID();
    await apply('MemberEnrolled', byStaff, 1, { ...enrolled(bronze), subject: null });
    const rows = (await db.query(`SELECT subject FROM member_snapshots WHERE member_id = $1`, [byStaff])) as { subject: string | null }[];
    expect(rows).toEqual([{ subject: null }]);
  });
});

describe('who a member token is (the kit\'s one rule)', () => {
  const member = (over: Partial<Viewer>): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, subject: 'idp|carol', memberId: null, ...over });

  /** Members as the read-through sees them: subject → id, recording what it was asked. */
  function membersBySubject(known: Record<string, string>) {
    const asked: string[] = [];
    const lookup: MemberIdentity = async (who) => {
      asked.push(who.subject);
      return known[who.subject] ?? null;
    };
    return { lookup, asked };
  }

  it('fills in the member id of a subject-only token from the projection, without asking members', async () => {
    const id = randomUUID();
    await apply('MemberEnrolled', id, 1, { ...enrolled(bronze), channel: 'SELF', subject: 'idp|carol' });
    const readThrough = membersBySubject({});
    const viewer = await identifyMember(member({}), snapshotIdentity(db, readThrough.lookup), 'token');
    expect(viewer.memberId).toBe(id);
    expect(readThrough.asked).toEqual([]);
  });

  it('asks members about a subject the projection does not know yet (an enrolment a moment ago)', async () => {
    const id = randomUUID();
    const readThrough = membersBySubject({ 'idp|dave': id });
    const identity = snapshotIdentity(db, readThrough.lookup);
    expect((await identifyMember(member({ subject: 'idp|dave' }), identity, 'token')).memberId).toBe(id);
    expect((await identifyMember(member({ subject: 'idp|nobody' }), identity, 'token')).memberId).toBeNull();
    expect(readThrough.asked).toEqual(['idp|dave', 'idp|nobody']);
  });

  it('refuses a memberId claim that contradicts the member the subject enrolled as, and keeps one that agrees or that nothing contradicts', async () => {
    const erin = randomUUID();
    await apply('MemberEnrolled', erin, 1, { ...enrolled(bronze), channel: 'SELF', subject: 'idp|erin' });
    const identity = snapshotIdentity(db, membersBySubject({}).lookup);
    await expect(identifyMember(member({ subject: 'idp|erin', memberId: randomUUID() }), identity, 'token')).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect((await identifyMember(member({ subject: 'idp|erin', memberId: erin }), identity, 'token')).memberId).toBe(erin);
    const staffEnrolled = randomUUID();
    expect((await identifyMember(member({ subject: 'idp|frank', memberId: staffEnrolled }), identity, 'token')).memberId).toBe(staffEnrolled);
  });

  it('leaves staff, services and anonymous callers as they are', async () => {
    const lookup: MemberIdentity = async () => {
      throw new Error('must not be asked');
    };
    const staff: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, subject: 'idp|carol', roles: ['AGENT'] };
    expect(await identifyMember(staff, lookup, 'token')).toBe(staff);
    expect(await identifyMember(ANONYMOUS, lookup, 'token')).toBe(ANONYMOUS);
  });

  it('remembers who a subject is once found, never that a subject-only login is not enrolled, and a claim-bearing miss for a minute', async () => {
    const clock = new ManualClock();
    const known: Record<string, string> = {};
    const asked: string[] = [];
    const remembering = rememberingFound(async (who) => {
      asked.push(who.subject);
      return known[who.subject] ?? null;
    }, clock);
    const login = (subject: string, claimedMemberId: string | null = null) => ({ programId, subject, claimedMemberId });

    // Not enrolled, then enrolled: the very next request knows it.
    expect(await remembering(login('idp|gina'), 't')).toBeNull();
    known['idp|gina'] = 'gina-id';
    expect(await remembering(login('idp|gina'), 't')).toBe('gina-id');
    expect(await remembering(login('idp|gina'), 't')).toBe('gina-id');
    expect(asked).toEqual(['idp|gina', 'idp|gina']);

    // A token carrying a member id whose subject enrolled as nobody: asked once a minute.
    asked.length = 0;
    expect(await remembering(login('idp|hank', 'hank-id'), 't')).toBeNull();
    expect(await remembering(login('idp|hank', 'hank-id'), 't')).toBeNull();
    expect(asked).toEqual(['idp|hank']);
    // The same subject without a claim is never answered from that.
    expect(await remembering(login('idp|hank'), 't')).toBeNull();
    expect(asked).toEqual(['idp|hank', 'idp|hank']);
    clock.advance(60_000);
    known['idp|hank'] = 'other-id';
    expect(await remembering(login('idp|hank', 'hank-id'), 't')).toBe('other-id');
  });
});
