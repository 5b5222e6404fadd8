import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersSubgraph } from '@loyalty-graph/members';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { membersReadThrough } from '@loyalty-graph/shared/member-snapshots';
import { type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { MemberGroupsAnnounced1796700000001 } from '../src/migrations/1796700000001-member-groups-announced';

/**
 * Group membership as events, against real PostgreSQL: every change of a member's groups is
 * announced once, in the transaction that makes it, with the member's whole set of groups after
 * it, also when changes of one member's groups come at the same moment.
 */

let sub: RunningSubgraph & { internalSecret: string };
let programId: string;
let agent: Caller;

const OPERATOR: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'op' };
const ENROL = `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } userErrors { code } } }`;
const GROUP = `mutation($p: ID!, $name: String!) { createMemberGroup(input: { programId: $p, type: AFFINITY, name: $name }) { group { id } userErrors { code } } }`;
const ADD = `mutation($input: GroupMembershipInput!) { addMemberToGroup(input: $input) { group { id } userErrors { code field } } }`;
const REMOVE = `mutation($input: GroupMembershipInput!) { removeMemberFromGroup(input: $input) { group { id } userErrors { code field } } }`;

beforeAll(async () => {
  sub = await startTestSubgraph(membersSubgraph as unknown as SubgraphModule<ViewerContext>);
  const operator = await sub.as(OPERATOR);
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Groups", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
  );
  programId = createProgram.program.id;
  agent = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent' });
});
afterAll(() => sub?.stop());

let n = 0;
async function enrol(): Promise<string> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, { p: programId, e: `group-${++n}@example.com` });
  return enrollMember.member.id;
}
async function group(): Promise<string> {
  const { createMemberGroup } = await agent.data<{ createMemberGroup: { group: { id: string } } }>(GROUP, { p: programId, name: `Group ${++n}` });
  return createMemberGroup.group.id;
}
async function change(mutation: string, groupId: string, memberId: string): Promise<string[]> {
  const data = await agent.data<Record<string, { userErrors: { code: string }[] }>>(mutation, { input: { groupId, memberId } });
  return Object.values(data)[0]!.userErrors.map((e) => e.code);
}

interface GroupEvent {
  type: string;
  version: number;
  payload: { programId: string; memberId: string; groupId: string; groupIds: string[]; at: string };
}

/** The member's group events, in their order. */
async function groupEvents(memberId: string): Promise<GroupEvent[]> {
  return (await sub.db.query(
    `SELECT event_type AS type, aggregate_version AS version, payload FROM outbox WHERE aggregate_id = $1 AND event_type IN ('MemberJoinedGroup', 'MemberLeftGroup') ORDER BY aggregate_version`,
    [memberId],
  )) as GroupEvent[];
}

async function memberships(memberId: string): Promise<string[]> {
  const rows = (await sub.db.query(`SELECT group_id AS "groupId" FROM group_memberships WHERE member_id = $1 ORDER BY group_id`, [memberId])) as { groupId: string }[];
  return rows.map((r) => r.groupId);
}

/** Turns the member's outbox counter back by one (or forward again), so their next event collides with the last one's version. */
async function breakAnnouncements(memberId: string, by: -1 | 1): Promise<void> {
  await sub.db.query(`UPDATE outbox_aggregates SET version = version + $2 WHERE aggregate_id = $1`, [memberId, by]);
}

describe('group membership events', () => {
  it('announces a join once, with every group they are in', async () => {
    const member = await enrol();
    const [first, second] = [await group(), await group()];
    expect(await change(ADD, first, member)).toEqual([]);
    expect(await change(ADD, second, member)).toEqual([]);
    // Already in it: nothing changes, nothing is announced.
    expect(await change(ADD, first, member)).toEqual([]);
    const events = await groupEvents(member);
    expect(events.map((e) => [e.type, e.payload.groupId, e.payload.groupIds])).toEqual([
      ['MemberJoinedGroup', first, [first]],
      ['MemberJoinedGroup', second, [first, second].sort()],
    ]);
    expect(events[0]!.payload).toMatchObject({ programId, memberId: member });
    // What was written is what the contract reads (consumers parse it).
    for (const e of events) membersEvents.events.MemberJoinedGroup.payload.parse(e.payload);
  });

  it('announces a removal once with the groups left, and nothing for a member who was not in the group', async () => {
    const member = await enrol();
    const [first, second] = [await group(), await group()];
    await change(ADD, first, member);
    await change(ADD, second, member);
    expect(await change(REMOVE, first, member)).toEqual([]);
    expect(await change(REMOVE, first, member)).toEqual(['NOT_IN_GROUP']);
    expect(await change(REMOVE, second, member)).toEqual([]);
    const events = await groupEvents(member);
    expect(events.map((e) => [e.type, e.payload.groupId, e.payload.groupIds])).toEqual([
      ['MemberJoinedGroup', first, [first]],
      ['MemberJoinedGroup', second, [first, second].sort()],
      ['MemberLeftGroup', first, [second]],
      ['MemberLeftGroup', second, []],
    ]);
    for (const e of events.slice(2)) membersEvents.events.MemberLeftGroup.payload.parse(e.payload);
  });

  it('announces in the transaction of the change: a join or a removal that cannot be announced is not made', async () => {
    const member = await enrol();
    const [first, second] = [await group(), await group()];
    await change(ADD, first, member);
    await breakAnnouncements(member, -1);
    const failedJoin = await agent.send(ADD, { input: { groupId: second, memberId: member } });
    expect(failedJoin.errors?.[0]?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    const failedLeave = await agent.send(REMOVE, { input: { groupId: first, memberId: member } });
    expect(failedLeave.errors?.[0]?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(await memberships(member)).toEqual([first]);
    await breakAnnouncements(member, 1);
    expect(await change(ADD, second, member)).toEqual([]);
    expect((await groupEvents(member)).map((e) => e.payload.groupIds)).toEqual([[first], [first, second].sort()]);
  });

  it('writes no event when the change is refused', async () => {
    const member = await enrol();
    const other = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId: '00000000-0000-4000-8000-000000000001', roles: ['AGENT'], subject: 'other' });
    const g = await group();
    const refused = await other.send(ADD, { input: { groupId: g, memberId: member } });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(await groupEvents(member)).toEqual([]);
  });

  it('announces the whole set in order when one member joins eight groups at once, and once when eight add them to one', async () => {
    const member = await enrol();
    const groups = await Promise.all(Array.from({ length: 8 }, group));
    expect((await Promise.all(groups.map((g) => change(ADD, g, member)))).flat()).toEqual([]);
    const joined = await groupEvents(member);
    expect(joined).toHaveLength(8);
    // Each announcement holds every earlier one's groups: the last says them all.
    joined.forEach((e, i) => {
      expect(e.payload.groupIds).toHaveLength(i + 1);
      expect(e.payload.groupIds).toContain(e.payload.groupId);
      if (i > 0) expect(e.payload.groupIds).toEqual(expect.arrayContaining(joined[i - 1]!.payload.groupIds));
    });
    expect(joined.at(-1)!.payload.groupIds).toEqual([...groups].sort());

    const another = await enrol();
    expect((await Promise.all(Array.from({ length: 8 }, () => change(ADD, groups[0]!, another)))).flat()).toEqual([]);
    expect((await groupEvents(another)).map((e) => e.payload.groupIds)).toEqual([[groups[0]]]);
  });

  it('gives a service reading members directly the member’s groups (the snapshots’ read-through)', async () => {
    const member = await enrol();
    const [first, second] = [await group(), await group()];
    await change(ADD, second, member);
    await change(ADD, first, member);
    const lonely = await enrol();
    const [found, none] = await membersReadThrough(() => sub.url, 'catalog', sub.internalSecret)([member, lonely]);
    expect(found).toEqual({ id: member, programId, status: 'ACTIVE', tierId: null, groupIds: [first, second].sort(), sharesWithPartners: false, partnerMarketing: false });
    expect(none?.groupIds).toEqual([]);
  });

  it('announces the memberships made before group events, each with the groups joined up to it (the migration)', async () => {
    const member = await enrol();
    const [first, second] = [await group(), await group()];
    // Memberships as they were written before the events existed: rows only.
    await sub.db.query(`INSERT INTO group_memberships (group_id, member_id, joined_at) VALUES ($1, $3, '2026-01-01T10:00:00Z'), ($2, $3, '2026-02-01T10:00:00Z')`, [second, first, member]);
    await sub.db.query(`DELETE FROM outbox WHERE event_type = 'MemberJoinedGroup'`);
    const before = ((await sub.db.query(`SELECT coalesce(max(aggregate_version), 0) AS v FROM outbox WHERE aggregate_id = $1`, [member])) as { v: number }[])[0]!.v;
    const runner = sub.db.createQueryRunner();
    try {
      await new MemberGroupsAnnounced1796700000001().up(runner);
    } finally {
      await runner.release();
    }
    const events = await groupEvents(member);
    expect(events.map((e) => [e.type, e.version, e.payload.groupId, e.payload.groupIds, e.payload.at])).toEqual([
      ['MemberJoinedGroup', before + 1, second, [second], '2026-01-01T10:00:00.000Z'],
      ['MemberJoinedGroup', before + 2, first, [first, second].sort(), '2026-02-01T10:00:00.000Z'],
    ]);
    // Exactly the contract's fields, as a consumer parses them.
    for (const e of events) expect(membersEvents.events.MemberJoinedGroup.payload.strict().parse(e.payload)).toMatchObject({ programId, memberId: member });
  });
});
