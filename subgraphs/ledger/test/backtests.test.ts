import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { BacktestService } from '../src/services/backtests';

/**
 * Backtests against real PostgreSQL, the ledger alone: purchases recorded (and one returned) under
 * rules v1, then drafts replayed over the range. The gateway would fetch Program.pointValue and
 * Program.tiers from members (@requires); here the representation carries them, as it would.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let analyst: Caller;
const programId = randomUUID();
const HOUR = 3_600_000;
const START = new Date('2026-03-01T00:00:00Z');
const tier = { base: randomUUID(), silver: randomUUID(), gold: randomUUID() };
const TIERS = [
  { id: tier.base, name: 'Base', rank: 1, qualifyingThreshold: 0 },
  { id: tier.silver, name: 'Silver', rank: 2, qualifyingThreshold: 100 },
  { id: tier.gold, name: 'Gold', rank: 3, qualifyingThreshold: 400 },
];
const POINT_VALUE = { amount: '0.01', currency: 'EUR' };
const ADMIN: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN'], subject: 'admin-1' };
const V1 = { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', multipliers: [{ dimension: 'TIER', value: tier.gold, factor: '2' }] };

const member = { a: randomUUID(), b: randomUUID(), c: randomUUID() };
let from: Date;
let to: Date;
let keys = 0;

const BACKTEST = `query($reps: [_Any!]!, $input: BacktestEarningRulesInput!) { _entities(representations: $reps) { ... on Program {
  backtestEarningRules(input: $input) {
    from to purchases refusedPurchases members actualPoints draftPoints pointsDifference actualStatusPoints draftStatusPoints
    liabilityImpact { amount currency } membersGaining membersLosing membersUnchanged
    largestGain { memberId actualPoints draftPoints difference } largestLoss { memberId actualPoints draftPoints difference }
    draftLadder tiers { tierId name rank actualThreshold draftThreshold actualMembers draftMembers actualMembersOnDraftLadder } membersChangingTier
  } } } }`;

interface Backtest {
  purchases: number;
  refusedPurchases: number;
  members: number;
  actualPoints: string;
  draftPoints: string;
  pointsDifference: string;
  actualStatusPoints: string;
  draftStatusPoints: string;
  liabilityImpact: { amount: string; currency: string };
  membersGaining: number;
  membersLosing: number;
  membersUnchanged: number;
  largestGain: { memberId: string; actualPoints: string; draftPoints: string; difference: string } | null;
  largestLoss: { memberId: string; actualPoints: string; draftPoints: string; difference: string } | null;
  draftLadder: boolean;
  tiers: { tierId: string | null; name: string | null; actualThreshold: number | null; draftThreshold: number | null; actualMembers: number; draftMembers: number; actualMembersOnDraftLadder: number }[];
  membersChangingTier: number;
}

function backtestAs(caller: Caller, input: Record<string, unknown>, program = programId) {
  const reps = [{ __typename: 'Program', id: program, pointValue: POINT_VALUE, tiers: TIERS }];
  return caller.send<{ _entities: { backtestEarningRules: Backtest }[] }>(BACKTEST, { reps, input: { from: from.toISOString(), to: to.toISOString(), ...input } });
}

async function backtest(input: Record<string, unknown>): Promise<Backtest> {
  const response = await backtestAs(analyst, input);
  expect(response.errors).toBeUndefined();
  return response.data!._entities[0]!.backtestEarningRules;
}

async function snapshot(memberId: string, tierId: string | null): Promise<void> {
  await sub.db.query(
    `INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at) VALUES ($1, $2, 'ACTIVE', $3, 1, $4)
     ON CONFLICT (member_id) DO UPDATE SET tier_id = EXCLUDED.tier_id`,
    [memberId, programId, tierId, sub.clock.now()],
  );
}

type Line = { lineId: string; sku: string; category: string; quantity: number; amount: string };
async function purchase(memberId: string, channel: string, lines: Line[]): Promise<{ id: string; points: number }> {
  sub.clock.advance(HOUR);
  const { recordPurchase } = await admin.data<{ recordPurchase: { purchase: { id: string; points: number } | null; userErrors: unknown[] } }>(
    `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code message } } }`,
    { input: { idempotencyKey: `bt-${++keys}-${randomUUID()}`, memberId, source: 'till', externalId: randomUUID(), basket: { currency: 'EUR', channel, lines } } },
  );
  expect(recordPurchase.userErrors).toEqual([]);
  return recordPurchase.purchase!;
}

const line = (lineId: string, category: string, quantity: number, amount: string): Line => ({ lineId, sku: `${category}-${lineId}`, category, quantity, amount });

async function counts(): Promise<Record<string, string>> {
  const [row] = (await sub.db.query(`SELECT
      (SELECT count(*) FROM journal_entries)::text AS entries, (SELECT count(*) FROM journal_lines)::text AS lines,
      (SELECT count(*) FROM earning_rule_sets)::text AS rule_sets, (SELECT count(*) FROM purchases)::text AS purchases,
      (SELECT count(*) FROM purchase_returns)::text AS returns, (SELECT count(*) FROM outbox)::text AS outbox,
      (SELECT count(*) FROM idempotency_keys)::text AS keys`)) as Record<string, string>[];
  return row!;
}

let before: Record<string, string>;

beforeAll(async () => {
  sub = await startTestSubgraph(ledgerSubgraph as unknown as SubgraphModule<ViewerContext>);
  sub.clock.set(START);
  admin = await sub.as(ADMIN);
  analyst = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ANALYST'], subject: 'analyst-1' });
  const { configureLedger } = await admin.data<{ configureLedger: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { userErrors { code } } }`,
    { input: { programId, returnWindowDays: 0 } },
  );
  expect(configureLedger.userErrors).toEqual([]);
  const { publishEarningRules } = await admin.data<{ publishEarningRules: { userErrors: unknown[] } }>(
    `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code } } }`,
    { input: { programId, ...V1 } },
  );
  expect(publishEarningRules.userErrors).toEqual([]);
  await snapshot(member.a, tier.gold);
  await snapshot(member.b, null);
  await snapshot(member.c, null);

  from = START;
  // A (gold then): 2 × 50.00 food + 30.00 wine, ×2 for gold = 100 + 60.
  expect((await purchase(member.a, 'STORE', [line('1', 'food', 2, '50.00'), line('2', 'wine', 1, '30.00')])).points).toBe(160);
  expect((await purchase(member.b, 'STORE', [line('1', 'food', 1, '120.00')])).points).toBe(120);
  // C: 2 bottles for 40.00 online; one comes back (20 points back).
  const returned = await purchase(member.c, 'ONLINE', [line('1', 'wine', 2, '40.00')]);
  expect(returned.points).toBe(40);
  expect((await purchase(member.b, 'STORE', [line('1', 'wine', 1, '60.00')])).points).toBe(60);
  sub.clock.advance(HOUR);
  const { recordReturn } = await admin.data<{ recordReturn: { userErrors: unknown[] } }>(
    `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { userErrors { code message } } }`,
    { input: { idempotencyKey: `bt-return-${randomUUID()}`, purchaseId: returned.id, lines: [{ lineId: '1', quantity: 1 }] } },
  );
  expect(recordReturn.userErrors).toEqual([]);
  sub.clock.advance(HOUR);
  to = sub.clock.now();
  // After the range: never replayed.
  await purchase(member.c, 'STORE', [line('1', 'food', 1, '999.00')]);
  // A has lost gold since: the replay still earns A's purchase at gold, the tier it was recorded at.
  await snapshot(member.a, null);
  before = await counts();
}, 120_000);

afterAll(async () => {
  await sub?.stop();
});

describe('backtestEarningRules', () => {
  it('reports exactly twice the points for a draft doubling the base rate, valued at the point value', async () => {
    const result = await backtest({ rules: { ...V1, basePoints: 2 } });
    // Actual: A 160, B 120 + 60, C 40 − 20 returned.
    expect(result).toMatchObject({ purchases: 4, members: 3, refusedPurchases: 0, actualPoints: '360', draftPoints: '720', pointsDifference: '360', actualStatusPoints: '360', draftStatusPoints: '720' });
    expect(result.liabilityImpact).toEqual({ amount: '3.60', currency: 'EUR' });
    expect(result).toMatchObject({ membersGaining: 3, membersLosing: 0, membersUnchanged: 0, largestLoss: null });
    expect(result.largestGain).toEqual({ memberId: member.b, actualPoints: '180', draftPoints: '360', difference: '180' });
  });

  it('has an actual side equal to what the journal gave for the same purchases', async () => {
    const [journal] = (await sub.db.query(
      `SELECT coalesce(sum(e.member_amount), 0)::text AS points FROM journal_entries e JOIN purchases p ON p.id = e.purchase_id
       WHERE p.program_id = $1 AND p.occurred_at >= $2 AND p.occurred_at < $3 AND e.kind IN ('ACCRUAL', 'RETURN')`,
      [programId, from, to],
    )) as { points: string }[];
    const result = await backtest({ rules: V1 });
    expect(result.actualPoints).toBe(journal!.points);
    // The rules in force, replayed, give what was given: nobody changes.
    expect(result).toMatchObject({ draftPoints: journal!.points, pointsDifference: '0', membersUnchanged: 3, membersChangingTier: 0, liabilityImpact: { amount: '0.00', currency: 'EUR' } });
  });

  it('gives the exact points of a draft with a campaign and a category multiplier on known baskets', async () => {
    const result = await backtest({
      rules: {
        currency: 'EUR',
        basePoints: 1,
        perAmount: '1.00',
        rounding: 'FLOOR',
        multipliers: [{ dimension: 'CATEGORY', value: 'food', factor: '1.5' }],
        campaigns: [{ name: 'Online wine', startsAt: START.toISOString(), endsAt: to.toISOString(), factor: '3', categories: ['wine'], channels: ['ONLINE'] }],
      },
    });
    // A (no TIER multiplier in the draft): food line 50.00 × 1.5 + wine 30.00 in store (no campaign) = 105.
    // B: 120.00 × 1.5 + 60.00 = 240. C: 40.00 × 3 online = 120, the returned bottle takes back half: 60.
    expect(result).toMatchObject({ draftPoints: String(105 + 240 + 60), actualPoints: '360', pointsDifference: '45', membersGaining: 2, membersLosing: 1 });
    expect(result.largestLoss).toEqual({ memberId: member.a, actualPoints: '160', draftPoints: '105', difference: '-55' });
    expect(result.largestGain).toMatchObject({ memberId: member.b, difference: '60' });
  });

  it('moves members between tiers on a draft ladder', async () => {
    // Same rules, silver raised to 170: A (160) drops to Base, B (180) stays Silver.
    const raised = await backtest({ rules: V1, tierThresholds: [{ tierId: tier.silver, threshold: 170 }] });
    const row = (r: Backtest, id: string | null) => r.tiers.find((t) => t.tierId === id)!;
    expect(raised.draftLadder).toBe(true);
    expect(row(raised, tier.silver)).toMatchObject({ name: 'Silver', actualThreshold: 100, draftThreshold: 170, actualMembers: 2, draftMembers: 1 });
    expect(row(raised, tier.base)).toMatchObject({ actualMembers: 1, draftMembers: 2, actualMembersOnDraftLadder: 2 });
    expect(row(raised, null)).toMatchObject({ actualMembers: 0, draftMembers: 0 });
    expect(raised.membersChangingTier).toBe(1);
    // Doubled points and gold lowered to 300: A (320) and B (360) reach gold, C (40) stays Base.
    const doubled = await backtest({ rules: { ...V1, basePoints: 2 }, tierThresholds: [{ tierId: tier.gold, threshold: 300 }] });
    expect(row(doubled, tier.gold)).toMatchObject({ actualMembers: 0, draftMembers: 2, actualMembersOnDraftLadder: 0 });
    expect(row(doubled, tier.silver)).toMatchObject({ actualMembers: 2, draftMembers: 0 });
    expect(row(doubled, tier.base)).toMatchObject({ actualMembers: 1, draftMembers: 1 });
    expect(doubled.membersChangingTier).toBe(2);
  });

  it('counts caps as the ledger does, with what the member earned earlier in the period before the range', async () => {
    // From 03:00: C's purchase (40, half returned) and B's second (60). B earned 120 at 02:00 the
    // same day, so a 150-a-day cap leaves B 30 of the 60.
    const result = await backtest({ from: new Date(START.getTime() + 3 * HOUR).toISOString(), rules: { ...V1, caps: [{ period: 'DAY', maxPoints: 150 }] } });
    expect(result).toMatchObject({ purchases: 2, members: 2, actualPoints: '80', draftPoints: '50', pointsDifference: '-30' });
    expect(result.largestLoss).toEqual({ memberId: member.b, actualPoints: '60', draftPoints: '30', difference: '-30' });
  });

  it('refuses a range over 366 days, malformed rules and an unknown tier with BAD_USER_INPUT naming the field', async () => {
    const field = async (input: Record<string, unknown>) => {
      const response = await backtestAs(analyst, input);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      return response.errors![0]!.extensions!['field'];
    };
    expect(await field({ from: '2025-02-01T00:00:00Z', rules: V1 })).toBe('to');
    expect(await field({ to: from.toISOString(), rules: V1 })).toBe('to');
    expect(await field({ rules: { ...V1, perAmount: '0.001' } })).toBe('rules.perAmount');
    expect(await field({ rules: { ...V1, multipliers: [V1.multipliers[0], V1.multipliers[0]] } })).toBe('rules.multipliers.1');
    expect(await field({ rules: V1, tierThresholds: [{ tierId: randomUUID(), threshold: 10 }] })).toBe('tierThresholds.0.tierId');
  });

  it('refuses a range holding more purchases than the limit', async () => {
    const service = new BacktestService(sub.db, sub.clock, 3);
    const facts = { pointValue: POINT_VALUE, tiers: TIERS };
    await expect(service.run(ADMIN, programId, { from, to, rules: { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' } }, facts)).rejects.toMatchObject({ field: 'to', message: /more than 3 purchases/ });
  });

  it('gives up with BAD_USER_INPUT, writing nothing, when the replay outlasts its time budget', async () => {
    const service = new BacktestService(sub.db, sub.clock, undefined, 0);
    const facts = { pointValue: POINT_VALUE, tiers: TIERS };
    await expect(service.run(ADMIN, programId, { from, to, rules: { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' } }, facts)).rejects.toMatchObject({ field: 'to', message: /could not be replayed within 0 s/ });
  });

  it('is refused to another program’s staff, agents and members', async () => {
    const other = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId: randomUUID(), roles: ['ADMIN', 'ANALYST'], subject: 'other-admin' });
    const agent = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent-1' });
    const holder = await sub.as({ ...ANONYMOUS, kind: 'MEMBER', programId, subject: 'idp|a', memberId: member.a });
    for (const caller of [other, agent, holder]) {
      const response = await backtestAs(caller, { rules: V1 });
      expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    }
  });

  it('writes nothing: journal, rule versions, purchases, returns, outbox and keys are as before', async () => {
    await backtest({ rules: { ...V1, basePoints: 5 } });
    expect(await counts()).toEqual(before);
    const { _entities } = await admin.data<{ _entities: { earningRuleHistory: { version: number }[] }[] }>(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { earningRuleHistory { version } } } }`,
      { reps: [{ __typename: 'Program', id: programId }] },
    );
    expect(_entities[0]!.earningRuleHistory.map((r) => r.version)).toEqual([1]);
  });

  it('earns a purchase recorded before the ledger kept its tier at the member’s current tier', async () => {
    // As a row from before migration 1796520000000 looks; A is gold again now.
    await sub.db.query(`UPDATE purchases SET tier_id = NULL, tier_known = false WHERE member_id = $1`, [member.a]);
    await snapshot(member.a, tier.gold);
    expect((await backtest({ rules: V1 })).largestGain).toBeNull();
    // Without gold now, the draft (the same rules) gives A 80 instead of the 160 the journal says.
    await snapshot(member.a, tier.silver);
    expect((await backtest({ rules: V1 })).largestLoss).toEqual({ memberId: member.a, actualPoints: '160', draftPoints: '80', difference: '-80' });
  });
});
