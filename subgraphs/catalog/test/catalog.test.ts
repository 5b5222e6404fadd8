import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { seedDemoCatalog } from '../src/seed';
import { catalogSubgraph } from '../src/server';

/** The catalog subgraph on its own, against real PostgreSQL, called the way the gateway calls it. */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let service: Caller;
let admin: Caller;

const PROGRAM = '00000000-0000-4000-8000-00000000000a';
const OTHER_PROGRAM = '00000000-0000-4000-8000-00000000000b';
const NOBODY = '00000000-0000-4000-8000-000000000000';
const staffOf = (programId: string, role: 'ADMIN' | 'AGENT'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: [role], subject: `${role.toLowerCase()}-${programId}` });

const REWARD_FIELDS = `id status points version name cash { amount currency } stock { received reserved sold available } program { id }`;
const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code field message } } }`;
const RECEIVE = `mutation($input: ReceiveRewardStockInput!) { receiveRewardStock(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code field } } }`;
const UPDATE = `mutation($input: UpdateRewardInput!) { updateReward(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code field } } }`;
const RETIRE = `mutation($input: RetireRewardInput!) { retireReward(input: $input) { reward { ${REWARD_FIELDS} } userErrors { code field } } }`;

type Reward = { id: string; status: string; points: number; version: number; name: string; cash: { amount: string; currency: string } | null; stock: { received: number; reserved: number; sold: number; available: number } | null };
type RewardPayload = { reward: Reward | null; userErrors: { code: string; field: string | null }[] };

const details = (points = 500) => ({ defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Kubek' }, { locale: 'en', name: 'Mug' }], points, cash: { amount: '9.9', currency: 'EUR' } });
let keys = 0;
const key = () => `test-key-${++keys}`;

async function createReward(stock: number | null = 10): Promise<Reward> {
  const { createReward } = await admin.data<{ createReward: RewardPayload }>(CREATE, { input: { idempotencyKey: key(), programId: PROGRAM, type: 'PHYSICAL', stock, details: details() } });
  return createReward.reward!;
}

beforeAll(async () => {
  sub = await startTestSubgraph(catalogSubgraph as unknown as SubgraphModule<ViewerContext>);
  service = await sub.as(serviceViewer('test'));
  admin = await sub.as(staffOf(PROGRAM, 'ADMIN'));
});
afterAll(() => sub?.stop());

describe('createReward', () => {
  it('creates version 1 with cash at its currency’s decimals; the same key returns the same reward, once', async () => {
    const input = { idempotencyKey: 'create-once-1', programId: PROGRAM, type: 'PHYSICAL', stock: 5, details: details() };
    const count = async () => ((await sub.db.query(`SELECT count(*)::int AS n FROM rewards`)) as { n: number }[])[0]!.n;
    const before = await count();
    const [first, again] = await Promise.all([admin.data<{ createReward: RewardPayload }>(CREATE, { input }), admin.data<{ createReward: RewardPayload }>(CREATE, { input })]);
    expect(first.createReward.reward).toMatchObject({ status: 'ACTIVE', version: 1, name: 'Kubek', cash: { amount: '9.90', currency: 'EUR' }, stock: { received: 5, available: 5 } });
    expect(again.createReward.reward!.id).toBe(first.createReward.reward!.id);
    expect(await count()).toBe(before + 1);
    const different = await admin.send(CREATE, { input: { ...input, details: details(600) } });
    expect(errorCodes(different)).toEqual(['CONFLICT']);
  });

  it('refuses malformed input as BAD_USER_INPUT naming the field, and another program’s admin or an agent as FORBIDDEN', async () => {
    const bad = await admin.send(CREATE, { input: { idempotencyKey: key(), programId: PROGRAM, type: 'PHYSICAL', details: { ...details(), points: 0 } } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.extensions!['field']).toBe('details.points');
    const input = { idempotencyKey: key(), programId: PROGRAM, type: 'PHYSICAL', details: details() };
    expect(errorCodes(await (await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'))).send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staffOf(PROGRAM, 'AGENT'))).send(CREATE, { input }))).toEqual(['FORBIDDEN']);
  });
});

describe('stock', () => {
  it('is refused by the database when a change would make available negative, or a counter negative', async () => {
    const reward = await createReward(10);
    await sub.db.query(`UPDATE rewards SET stock_reserved = stock_reserved + 4, stock_sold = stock_sold + 6 WHERE id = $1`, [reward.id]);
    await expect(sub.db.query(`UPDATE rewards SET stock_reserved = stock_reserved + 1 WHERE id = $1`, [reward.id])).rejects.toThrow(/rewards_stock_available/);
    await expect(sub.db.query(`UPDATE rewards SET stock_sold = stock_sold + 1 WHERE id = $1`, [reward.id])).rejects.toThrow(/rewards_stock_available/);
    await expect(sub.db.query(`UPDATE rewards SET stock_received = stock_received - 1 WHERE id = $1`, [reward.id])).rejects.toThrow(/rewards_stock_available/);
    await expect(sub.db.query(`UPDATE rewards SET stock_reserved = -1 WHERE id = $1`, [reward.id])).rejects.toThrow(/check constraint/);
    const unlimited = await createReward(null);
    await expect(sub.db.query(`UPDATE rewards SET stock_sold = 1 WHERE id = $1`, [unlimited.id])).rejects.toThrow(/rewards_unlimited_has_no_counts/);
    const { reward: read } = await admin.data<{ reward: Reward }>(`query($id: ID!) { reward(id: $id) { ${REWARD_FIELDS} } }`, { id: reward.id });
    expect(read.stock).toEqual({ received: 10, reserved: 4, sold: 6, available: 0 });
  });

  it('adds concurrent receipts without losing one, each once per key and each a version', async () => {
    const reward = await createReward(10);
    const inputs = Array.from({ length: 12 }, (_, i) => ({ idempotencyKey: `receive-${reward.id}-${i}`, rewardId: reward.id, units: i + 1 }));
    await Promise.all(inputs.map((input) => admin.data(RECEIVE, { input })));
    const retried = await admin.data<{ receiveRewardStock: RewardPayload }>(RECEIVE, { input: inputs[0] });
    expect(retried.receiveRewardStock.reward!.stock!.received).toBe(10 + 78);
    expect(retried.receiveRewardStock.reward!.version).toBe(13);
    const versions = (await sub.db.query(`SELECT version, change FROM reward_versions WHERE reward_id = $1 ORDER BY version`, [reward.id])) as { version: number; change: string }[];
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('refuses a receipt for unlimited or retired rewards, or beyond the counter’s range, in userErrors', async () => {
    const unlimited = await createReward(null);
    const refused = await admin.data<{ receiveRewardStock: RewardPayload }>(RECEIVE, { input: { idempotencyKey: key(), rewardId: unlimited.id, units: 1 } });
    expect(refused.receiveRewardStock).toEqual({ reward: null, userErrors: [{ code: 'STOCK_UNLIMITED', field: 'rewardId' }] });
    const limited = await createReward(1);
    await admin.data(RETIRE, { input: { rewardId: limited.id } });
    const retired = await admin.data<{ receiveRewardStock: RewardPayload }>(RECEIVE, { input: { idempotencyKey: key(), rewardId: limited.id, units: 1 } });
    expect(retired.receiveRewardStock.userErrors).toEqual([{ code: 'REWARD_RETIRED', field: 'rewardId' }]);
    const full = await createReward(10);
    await sub.db.query(`UPDATE rewards SET stock_received = 2147483000 WHERE id = $1`, [full.id]);
    const overflow = await admin.data<{ receiveRewardStock: RewardPayload }>(RECEIVE, { input: { idempotencyKey: key(), rewardId: full.id, units: 1_000 } });
    expect(overflow.receiveRewardStock.userErrors).toEqual([{ code: 'STOCK_LIMIT_EXCEEDED', field: 'units' }]);
  });
});

describe('history', () => {
  const HISTORY = `query($id: ID!) { reward(id: $id) { version history { version change changedBy reward { points status name } } } }`;
  type History = { reward: { version: number; history: { version: number; change: string; changedBy: string; reward: { points: number; status: string; name: string } }[] } };

  it('keeps every version with who, what and the whole reward as it was; a retired reward stays readable', async () => {
    const reward = await createReward(3);
    await admin.data(UPDATE, { input: { rewardId: reward.id, details: details(700) } });
    await admin.data(RETIRE, { input: { rewardId: reward.id } });
    await admin.data(RETIRE, { input: { rewardId: reward.id } }); // changes nothing: no version
    const { reward: read } = await admin.data<History>(HISTORY, { id: reward.id });
    expect(read.version).toBe(3);
    expect(read.history).toEqual([
      { version: 3, change: 'RETIRED', changedBy: `admin-${PROGRAM}`, reward: { points: 700, status: 'RETIRED', name: 'Kubek' } },
      { version: 2, change: 'UPDATED', changedBy: `admin-${PROGRAM}`, reward: { points: 700, status: 'ACTIVE', name: 'Kubek' } },
      { version: 1, change: 'CREATED', changedBy: `admin-${PROGRAM}`, reward: { points: 500, status: 'ACTIVE', name: 'Kubek' } },
    ]);
    const updateRetired = await admin.data<{ updateReward: RewardPayload }>(UPDATE, { input: { rewardId: reward.id, details: details(800) } });
    expect(updateRetired.updateReward.userErrors).toEqual([{ code: 'REWARD_RETIRED', field: 'rewardId' }]);
  });

  it('is written in the same transaction as the change: a version that cannot be written leaves the reward unchanged', async () => {
    const reward = await createReward(3);
    // Occupy the next version's key so writing the history fails after the reward's UPDATE ran.
    await sub.db.query(`INSERT INTO reward_versions (reward_id, version, change, changed_by, changed_at, snapshot) VALUES ($1, 2, 'UPDATED', 'intruder', now(), '{}')`, [reward.id]);
    const res = await admin.send(UPDATE, { input: { rewardId: reward.id, details: details(900) } });
    expect(errorCodes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    const [row] = (await sub.db.query(`SELECT points, version FROM rewards WHERE id = $1`, [reward.id])) as { points: number; version: number }[];
    expect(row).toEqual({ points: 500, version: 1 });
  });
});

describe('catalogs', () => {
  const CREATE_CATALOG = `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id name tierIds } userErrors { code field } } }`;
  const SET = `mutation($input: SetCatalogRewardsInput!) { setCatalogRewards(input: $input) { catalog { id rewards { id } } userErrors { code field } } }`;

  it('keeps the rewards in the order set, replaces the list, and refuses another program’s reward', async () => {
    const [a, b, c] = [await createReward(), await createReward(), await createReward()];
    const { createCatalog } = await admin.data<{ createCatalog: { catalog: { id: string } } }>(CREATE_CATALOG, { input: { idempotencyKey: key(), programId: PROGRAM, name: 'Gold', tierIds: [NOBODY] } });
    const catalogId = createCatalog.catalog.id;
    const set = await admin.data<{ setCatalogRewards: { catalog: { rewards: { id: string }[] } } }>(SET, { input: { catalogId, rewardIds: [c!.id, a!.id, b!.id] } });
    expect(set.setCatalogRewards.catalog.rewards.map((r) => r.id)).toEqual([c!.id, a!.id, b!.id]);
    const reset = await admin.data<{ setCatalogRewards: { catalog: { rewards: { id: string }[] } } }>(SET, { input: { catalogId, rewardIds: [b!.id] } });
    expect(reset.setCatalogRewards.catalog.rewards.map((r) => r.id)).toEqual([b!.id]);

    const otherAdmin = await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'));
    const { createReward: foreign } = await otherAdmin.data<{ createReward: RewardPayload }>(CREATE, { input: { idempotencyKey: key(), programId: OTHER_PROGRAM, type: 'CHARITY', details: details() } });
    const refused = await admin.data<{ setCatalogRewards: { catalog: null; userErrors: unknown[] } }>(SET, { input: { catalogId, rewardIds: [a!.id, foreign.reward!.id] } });
    expect(refused.setCatalogRewards).toEqual({ catalog: null, userErrors: [{ code: 'REWARD_NOT_FOUND', field: 'rewardIds.1' }] });
    const twice = await admin.send(SET, { input: { catalogId, rewardIds: [a!.id, a!.id] } });
    expect(errorCodes(twice)).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await otherAdmin.send(SET, { input: { catalogId, rewardIds: [] } }))).toEqual(['FORBIDDEN']);
  });
});

describe('_entities for Reward', () => {
  const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Reward { id points } } }`;

  it('resolves several representations in order, null for an unknown id, with one SQL statement', async () => {
    const [a, b] = [await createReward(), await createReward()];
    sub.statements.reset();
    const { _entities } = await service.data<{ _entities: ({ id: string } | null)[] }>(ENTITIES, {
      representations: [b!.id, NOBODY, a!.id].map((id) => ({ __typename: 'Reward', id })),
    });
    expect(_entities.map((found) => found?.id ?? null)).toEqual([b!.id, null, a!.id]);
    expect(sub.statements.dataStatements()).toHaveLength(1);
  });
});

describe('Member.eligibleRewards as the gateway asks for it', () => {
  const MEMBER_ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { eligibleRewards { reward { id } orderable reasons } } } }`;
  const M1 = '00000000-0000-4000-8000-0000000000c1';
  const GOLD = '00000000-0000-4000-8000-0000000000d1';
  const member = (memberId: string): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId: PROGRAM, memberId, subject: `idp|${memberId}` });

  it('answers the member themself from their snapshot and the points sent along, and refuses anyone else of theirs', async () => {
    await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, subject, version, updated_at) VALUES ($1, $2, 'ACTIVE', $3, $4, 1, now())`, [M1, PROGRAM, GOLD, `idp|${M1}`]);
    const reward = await createReward(5);
    const { createCatalog } = await admin.data<{ createCatalog: { catalog: { id: string } } }>(
      `mutation($input: CreateCatalogInput!) { createCatalog(input: $input) { catalog { id } } }`,
      { input: { idempotencyKey: key(), programId: PROGRAM, name: 'Gold members', tierIds: [GOLD] } },
    );
    await admin.data(`mutation($input: SetCatalogRewardsInput!) { setCatalogRewards(input: $input) { userErrors { code } } }`, { input: { catalogId: createCatalog.catalog.id, rewardIds: [reward.id] } });
    const representation = (points: number) => [{ __typename: 'Member', id: M1, points: { available: points } }];

    const self = await sub.as(member(M1));
    const rich = await self.data<{ _entities: { eligibleRewards: { reward: { id: string }; reasons: string[] }[] }[] }>(MEMBER_ENTITIES, { representations: representation(500) });
    expect(rich._entities[0]!.eligibleRewards).toEqual([{ reward: { id: reward.id }, orderable: true, reasons: [] }]);
    const poor = await self.data<{ _entities: { eligibleRewards: { reasons: string[] }[] }[] }>(MEMBER_ENTITIES, { representations: representation(499) });
    expect(poor._entities[0]!.eligibleRewards[0]!.reasons).toEqual(['NOT_ENOUGH_POINTS']);

    for (const viewer of [member('00000000-0000-4000-8000-0000000000c2'), staffOf(OTHER_PROGRAM, 'AGENT')]) {
      const refused = await (await sub.as(viewer)).send(MEMBER_ENTITIES, { representations: representation(500) });
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    }
  });
});

describe('seedDemoCatalog', () => {
  it('seeds one reward of every type (the E_VOUCHER with 50 codes) and two catalogs once: a second run adds nothing', async () => {
    const programId = '00000000-0000-4000-8000-0000000000e1';
    const program = { id: programId, locale: 'da' as const, tiers: { Bronze: '00000000-0000-4000-8000-0000000000e2', Gold: '00000000-0000-4000-8000-0000000000e3' } };
    expect(await seedDemoCatalog(sub.db, sub.clock, program)).toEqual({ rewards: 5, seeded: true });
    expect(await seedDemoCatalog(sub.db, sub.clock, program)).toEqual({ rewards: 5, seeded: false });
    const types = (await sub.db.query(`SELECT type FROM rewards WHERE program_id = $1 ORDER BY type`, [programId])) as { type: string }[];
    expect(types.map((t) => t.type)).toEqual(['CHARITY', 'EXPERIENCE', 'E_VOUCHER', 'PARTNER_SERVICE', 'PHYSICAL']);
    const catalogs = (await sub.db.query(`SELECT c.name, count(cr.*)::int AS n FROM catalogs c LEFT JOIN catalog_rewards cr ON cr.catalog_id = c.id WHERE c.program_id = $1 GROUP BY c.name, c.seq ORDER BY c.seq`, [programId])) as { name: string; n: number }[];
    expect(catalogs).toEqual([{ name: 'Gold club', n: 2 }, { name: 'All members', n: 5 }]);
    const pool = (await sub.db.query(
      `SELECT r.stock_received AS received, count(v.*)::int AS codes, count(DISTINCT v.code_hash)::int AS distinct FROM rewards r JOIN voucher_codes v ON v.reward_id = r.id WHERE r.program_id = $1 GROUP BY r.id`,
      [programId],
    )) as unknown[];
    expect(pool).toEqual([{ received: 50, codes: 50, distinct: 50 }]);
  });
});
