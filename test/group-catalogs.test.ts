import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Eligibility by member group through the gateway: members announce group membership
 * (MemberJoinedGroup, MemberLeftGroup), catalog keeps it in its member snapshots, and a member sees
 * a group's catalog and orders its rewards only while in the group.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let member: Caller;
let groupId: string;
let teamReward: string;

const ADDRESS = { name: 'Ola Nordmann', line1: 'Storgata 1', postalCode: '00-950', city: 'Warszawa', country: 'pl' };
const PLACE = `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status } userErrors { code field } } }`;
const SEEN = `{ me { catalogs { catalog { name } rewards { reward { id } orderable } } eligibleRewards { reward { id } orderable reasons } } }`;
type Seen = {
  catalogs: { catalog: { name: string }; rewards: { reward: { id: string }; orderable: boolean }[] }[];
  eligibleRewards: { reward: { id: string }; orderable: boolean; reasons: string[] }[];
};

let n = 0;
const key = (label: string) => `groups-${label}-${++n}`;

async function seen(as: Caller): Promise<{ catalogs: string[]; reasons: Record<string, string[]> }> {
  const { me } = await as.data<{ me: Seen }>(SEEN);
  return { catalogs: me.catalogs.map((c) => c.catalog.name), reasons: Object.fromEntries(me.eligibleRewards.map((e) => [e.reward.id, e.reasons])) };
}

async function membership(mutation: 'addMemberToGroup' | 'removeMemberFromGroup', who: string): Promise<void> {
  const data = await p.agent.data<Record<string, { userErrors: unknown[] }>>(
    `mutation($input: GroupMembershipInput!) { ${mutation}(input: $input) { group { id } userErrors { code field } } }`,
    { input: { groupId, memberId: who } },
  );
  expect(data[mutation]!.userErrors).toEqual([]);
}

async function order(as: Caller, who: string): Promise<{ order: { status: string } | null; userErrors: { code: string; field: string | null }[] }> {
  const { placeRewardOrder } = await as.data<{ placeRewardOrder: { order: { status: string } | null; userErrors: { code: string; field: string | null }[] } }>(PLACE, {
    input: { idempotencyKey: key('order'), memberId: who, lines: [{ rewardId: teamReward, quantity: 1 }], shippingAddress: ADDRESS },
  });
  return placeRewardOrder;
}

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  p = await tierProgram(graph, 'Groups program', {});
  memberId = await p.enroll('team@example.com');
  await p.agent.data(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
    i: { idempotencyKey: 'groups-points', memberId, points: 1_000, reasonCode: 'GOODWILL', comment: 'welcome' },
  });
  await graph.deliverEvents();
  member = await graph.asMember(p.id, memberId);

  const { createMemberGroup } = await p.agent.data<{ createMemberGroup: { group: { id: string } } }>(
    `mutation($p: ID!) { createMemberGroup(input: { programId: $p, type: COMPANY, name: "Acme Ltd" }) { group { id } userErrors { code } } }`,
    { p: p.id },
  );
  groupId = createMemberGroup.group.id;
  // The admin builds a reward and a catalog for the group; an open catalog shows the reward to everyone, with its reasons.
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string }; userErrors: unknown[] } }>(
    `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field } } }`,
    { input: { idempotencyKey: key('reward'), programId: p.id, type: 'PHYSICAL', stock: null, details: { defaultLocale: 'en', translations: [{ locale: 'en', name: 'Acme hoodie' }], points: 100, memberGroupIds: [groupId] } } },
  );
  expect(createReward.userErrors).toEqual([]);
  teamReward = createReward.reward.id;
  const catalog = async (name: string, memberGroupIds: string[]) => {
    const { createCatalog } = await p.admin.data<{ createCatalog: { catalog: { id: string }; userErrors: unknown[] } }>(
      `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } userErrors { code field } } }`,
      { input: { idempotencyKey: key('catalog'), programId: p.id, name, memberGroupIds } },
    );
    expect(createCatalog.userErrors).toEqual([]);
    await p.admin.data(`mutation($input: SetCatalogRewardsInput!) { setCatalogRewards(input: $input) { userErrors { code } } }`, { input: { catalogId: createCatalog.catalog.id, rewardIds: [teamReward] } });
  };
  await catalog('Everyone', []);
  await catalog('Acme staff', [groupId]);
});
afterAll(() => graph?.stop());

describe('catalogs and rewards for a member group', () => {
  it('hides the group’s catalog and refuses its reward with GROUP until the member joins, and again once they leave', async () => {
    expect(await seen(member)).toEqual({ catalogs: ['Everyone'], reasons: { [teamReward]: ['GROUP'] } });
    expect((await order(member, memberId)).userErrors).toEqual([{ code: 'GROUP', field: 'lines.0.rewardId' }]);

    await membership('addMemberToGroup', memberId);
    await graph.deliverEvents();
    expect(await seen(member)).toEqual({ catalogs: ['Everyone', 'Acme staff'], reasons: { [teamReward]: [] } });
    const placed = await order(member, memberId);
    expect(placed.userErrors).toEqual([]);
    expect(placed.order!.status).toBe('CONFIRMED');

    await membership('removeMemberFromGroup', memberId);
    await graph.deliverEvents();
    expect(await seen(member)).toEqual({ catalogs: ['Everyone'], reasons: { [teamReward]: ['GROUP'] } });
    const refused = await order(member, memberId);
    expect(refused).toEqual({ order: null, userErrors: [{ code: 'GROUP', field: 'lines.0.rewardId' }] });
    // An agent ordering for the member is held to the same rule.
    expect((await order(p.agent, memberId)).userErrors.map((e) => e.code)).toEqual(['GROUP']);
  });

  it('knows the groups of a member catalog has not heard of yet (read through to members), and keeps them once the events arrive', async () => {
    const newcomer = await p.enroll('newcomer@example.com');
    await membership('addMemberToGroup', newcomer);
    const as = await graph.asMember(p.id, newcomer);
    // Neither MemberEnrolled nor MemberJoinedGroup has been delivered: catalog asks members.
    expect((await seen(as)).catalogs).toEqual(['Everyone', 'Acme staff']);
    await graph.deliverEvents();
    const [row] = (await graph.subgraphs['catalog']!.db.query(`SELECT group_ids::text[] AS "groupIds" FROM member_snapshots WHERE member_id = $1`, [newcomer])) as { groupIds: string[] }[];
    expect(row).toEqual({ groupIds: [groupId] });
    expect((await seen(as)).catalogs).toEqual(['Everyone', 'Acme staff']);
  });
});
