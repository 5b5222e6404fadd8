import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Rewards and dedicated catalogs through the gateway: an admin builds them, a member sees what they
 * can order now and why not (their tier from members' events, their points from the ledger
 * through @requires), and everyone else is refused.
 */
let graph: TestSupergraph;
let p: TierProgram;
let memberId: string;
let otherMemberId: string;
let member: Caller;

const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`;
let n = 0;
const rewardInput = (programId: string, type: string, points: number, over: Record<string, unknown> = {}, stock: number | null = null) => ({
  idempotencyKey: `e2e-reward-${++n}`,
  programId,
  type,
  stock,
  details: { defaultLocale: 'da', translations: [{ locale: 'da', name: `Belønning ${n}` }, { locale: 'en', name: `Reward ${n}` }], points, ...over },
});

async function createReward(input: ReturnType<typeof rewardInput>): Promise<string> {
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } | null; userErrors: unknown[] } }>(CREATE, { input });
  expect(createReward.userErrors).toEqual([]);
  return createReward.reward!.id;
}

const ids: Record<'mug' | 'flight' | 'lounge' | 'donation' | 'spa' | 'old', string> = {} as never;

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  p = await tierProgram(graph, 'Catalog program', {});
  memberId = await p.enroll('shopper@example.com');
  otherMemberId = await p.enroll('other@example.com');
  await p.agent.data(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
    i: { idempotencyKey: 'e2e-catalog-points', memberId, points: 1_000, reasonCode: 'GOODWILL', comment: 'welcome' },
  });
  await graph.deliverEvents();
  member = await graph.asMember(p.id, memberId);

  ids.mug = await createReward(rewardInput(p.id, 'PHYSICAL', 500, { cash: { amount: '5', currency: 'EUR' } }, 10));
  ids.flight = await createReward(rewardInput(p.id, 'EXPERIENCE', 5_000, { experience: { startsAt: '2026-08-01T18:00:00Z', place: 'Copenhagen', seats: 20 } }));
  ids.lounge = await createReward(rewardInput(p.id, 'E_VOUCHER', 100, { tierIds: [p.tiers.Gold] }));
  ids.donation = await createReward(rewardInput(p.id, 'CHARITY', 100, {}, 0));
  ids.spa = await createReward(rewardInput(p.id, 'PARTNER_SERVICE', 100, { partnerId: '00000000-0000-4000-8000-0000000000aa', availableFrom: '2026-06-01T00:00:00Z' }));
  ids.old = await createReward(rewardInput(p.id, 'PHYSICAL', 100));
  await p.admin.data(`mutation($id: ID!) { retireReward(input: { rewardId: $id }) { userErrors { code } } }`, { id: ids.old });

  const catalog = async (name: string, tierIds: string[], rewardIds: string[]) => {
    const { createCatalog } = await p.admin.data<{ createCatalog: { catalog: { id: string } } }>(
      `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } userErrors { code } } }`,
      { input: { idempotencyKey: `e2e-catalog-${name.replace(/ /g, "-")}`, programId: p.id, name, tierIds } },
    );
    await p.admin.data(`mutation($input: SetCatalogRewardsInput!) { setCatalogRewards(input: $input) { userErrors { code } } }`, { input: { catalogId: createCatalog.catalog.id, rewardIds } });
  };
  await catalog('Everyone', [], [ids.mug, ids.flight, ids.lounge, ids.donation, ids.spa, ids.old]);
  await catalog('Gold lounge', [p.tiers.Gold], [ids.lounge]);
  await catalog('Bronze picks', [p.tiers.Bronze], [ids.mug]);
});
afterAll(() => graph?.stop());

const ELIGIBLE = `{ eligibleRewards { reward { id name(locale: "en") } orderable reasons } catalogs { catalog { name } rewards { reward { id } orderable } } }`;
type Eligible = {
  eligibleRewards: { reward: { id: string; name: string }; orderable: boolean; reasons: string[] }[];
  catalogs: { catalog: { name: string }; rewards: { reward: { id: string }; orderable: boolean }[] }[];
};

describe('a member’s catalogs and eligible rewards', () => {
  it('lists what the member can order now and why not, from their tier and their points', async () => {
    const { me } = await member.data<{ me: Eligible }>(`{ me ${ELIGIBLE} }`);
    expect(me.catalogs.map((c) => c.catalog.name)).toEqual(['Everyone', 'Bronze picks']);
    expect(me.catalogs[1]!.rewards).toEqual([{ reward: { id: ids.mug }, orderable: true }]);
    expect(me.eligibleRewards.map((e) => [e.reward.id, e.orderable, e.reasons])).toEqual([
      [ids.mug, true, []],
      [ids.flight, false, ['NOT_ENOUGH_POINTS']],
      [ids.lounge, false, ['TIER', 'OUT_OF_STOCK']],
      [ids.donation, false, ['OUT_OF_STOCK']],
      [ids.spa, false, ['NOT_AVAILABLE_NOW']],
      [ids.old, false, ['RETIRED']],
    ]);
    expect(me.eligibleRewards[0]!.reward.name).toBe('Reward 1');
  });

  it('follows the clock and the member’s points: the window opens and a spend makes the mug unaffordable', async () => {
    graph.clock.set(new Date('2026-06-01T00:00:00Z'));
    await p.agent.data(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
      i: { idempotencyKey: 'e2e-catalog-take', memberId, points: -600, reasonCode: 'CORRECTION', comment: 'test' },
    });
    const { me } = await member.data<{ me: Eligible }>(`{ me ${ELIGIBLE} }`);
    const reasons = Object.fromEntries(me.eligibleRewards.map((e) => [e.reward.id, e.reasons]));
    expect(reasons[ids.mug]).toEqual(['NOT_ENOUGH_POINTS']);
    expect(reasons[ids.spa]).toEqual([]);
  });

  it('answers the program’s agent about any member', async () => {
    const { member: seen } = await p.agent.data<{ member: Eligible }>(`query($id: ID!) { member(id: $id) ${ELIGIBLE} }`, { id: otherMemberId });
    expect(seen.catalogs.map((c) => c.catalog.name)).toEqual(['Everyone', 'Bronze picks']);
    expect(seen.eligibleRewards.find((e) => e.reward.id === ids.donation)?.reasons).toEqual(['NOT_ENOUGH_POINTS', 'OUT_OF_STOCK']);
  });
});

describe('staff reads', () => {
  it('lists the program’s rewards and catalogs for its agent, with a reward’s history', async () => {
    const { program } = await p.agent.data<{ program: { rewards: { nodes: { id: string; history: { change: string }[] }[] }; catalogs: { name: string }[] } }>(
      `query($id: ID!) { program(id: $id) { rewards(status: RETIRED) { nodes { id history { change } } } catalogs { name } } }`,
      { id: p.id },
    );
    expect(program.rewards.nodes).toEqual([{ id: ids.old, history: [{ change: 'RETIRED' }, { change: 'CREATED' }] }]);
    expect(program.catalogs.map((c) => c.name)).toEqual(['Everyone', 'Gold lounge', 'Bronze picks']);
  });
});

describe('refusals', () => {
  it('refuses another program’s admin and this program’s agent creating a reward (FORBIDDEN), and anonymous callers (UNAUTHENTICATED)', async () => {
    const other = await createTestProgram(graph, { name: 'Other program', rules: null });
    const input = rewardInput(p.id, 'PHYSICAL', 100);
    expect(errorCodes(await other.admin.send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await p.agent.send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(CREATE, { input }))).toEqual(['UNAUTHENTICATED']);
    const read = await other.admin.send(`query($id: ID!) { program(id: $id) { rewards { nodes { id } } } }`, { id: p.id });
    expect(read.data?.program ?? null).toBeNull();
    expect(errorCodes(read)).toContain('FORBIDDEN');
  });

  it('refuses a member reading another member’s eligible rewards', async () => {
    const res = await member.send<{ member: Eligible | null }>(`query($id: ID!) { member(id: $id) { eligibleRewards { reward { id } } } }`, { id: otherMemberId });
    expect(res.data?.member?.eligibleRewards ?? null).toBeNull();
    expect(errorCodes(res)).toContain('FORBIDDEN');
  });
});

describe('while the ledger is down', () => {
  // Last in this file: it stops the ledger.
  it('answers the member’s other fields, with the catalog fields null and SUBGRAPH_UNAVAILABLE, never a guess at their points', async () => {
    await graph.subgraphs['ledger']!.stop();
    const res = await member.send<{ me: { id: string; eligibleRewards: unknown; catalogs: unknown } | null }>(`{ me { id eligibleRewards { reward { id } orderable } catalogs { catalog { name } } } }`);
    expect(res.data?.me).toEqual({ id: memberId, eligibleRewards: null, catalogs: null });
    expect(errorCodes(res)).toContain('SUBGRAPH_UNAVAILABLE');
    expect(errorCodes(res)).not.toContain('INTERNAL_SERVER_ERROR');
  });
});
