import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller, type GraphQLResponse } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Implausible values are refused with an error that names the field, and money comes back with
 * the decimals of its currency: through the gateway, as a till, an agent and an admin see it.
 */
let graph: TestSupergraph;
let programId: string;
let admin: Caller;
let agent: Caller;
let memberId: string;
const DAY = 86_400_000;
let n = 0;
const key = () => `plausible-${++n}-key`;

const RECORD = `mutation($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) {
    purchase { id total { amount currency } pendingPoints occurredAt }
    userErrors { code field message }
  }
}`;
type RecordResult = { recordPurchase: { purchase: { id: string; total: { amount: string; currency: string }; pendingPoints: number; occurredAt: string } | null; userErrors: { code: string; field: string | null; message: string }[] } };

const line = (amount: string, lineId = '1') => ({ lineId, sku: 'DIESEL', category: 'fuel', quantity: 1, amount });
const basket = (amount: string, currency = 'EUR') => ({ currency, channel: 'STORE', lines: [line(amount)] });

function record(caller: Caller, input: Record<string, unknown>) {
  return caller.send<RecordResult>(RECORD, { input: { idempotencyKey: key(), memberId, source: 'till-1', externalId: key(), basket: basket('10.00'), ...input } });
}

function expectBadInput(res: GraphQLResponse<unknown>, field: string, message?: RegExp): void {
  expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
  expect(res.errors?.[0]?.extensions?.['field']).toBe(field);
  if (message) expect(res.errors?.[0]?.message).toMatch(message);
}

async function enrol(caller: Caller, program: string, email: string): Promise<string> {
  const { enrollMember } = await caller.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`,
    { p: program, e: email },
  );
  return enrollMember.member.id;
}

beforeAll(async () => {
  graph = await startSupergraph();
  // Rules in force for six years back, so history can be imported under them.
  const effectiveFrom = new Date(graph.clock.now().getTime() - 6 * 365 * DAY).toISOString();
  ({ programId, admin, agent } = await createTestProgram(graph, { name: 'Plausible', rules: { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', effectiveFrom } }));
  memberId = await enrol(agent, programId, 'plausible@example.com');
});
afterAll(() => graph?.stop());

describe('purchase dates', () => {
  it('refuses a purchase in year 9999 as BAD_USER_INPUT naming occurredAt, and records nothing', async () => {
    const res = await record(agent, { occurredAt: '9999-12-31T00:00:00Z' });
    expectBadInput(res, 'occurredAt', /in the future/);
    const { member } = await agent.data<{ member: { points: { pending: number; posted: number } } }>(`query($id: ID!) { member(id: $id) { points { pending posted } } }`, { id: memberId });
    expect(member.points).toEqual({ pending: 0, posted: 0 });
  });

  it('leaves the idempotency key unused after a refusal, so the corrected purchase goes through under it', async () => {
    const retryKey = key();
    const input = { idempotencyKey: retryKey, externalId: retryKey };
    expectBadInput(await record(agent, { ...input, occurredAt: '9999-12-31T00:00:00Z' }), 'occurredAt');
    const corrected = await record(agent, { ...input, occurredAt: graph.clock.now().toISOString() });
    expect(corrected.errors).toBeUndefined();
    expect(corrected.data?.recordPurchase.userErrors).toEqual([]);
  });

  it('refuses a quote, earning rules or a campaign dated beyond ten years', async () => {
    const quote = `query($input: QuotePurchaseInput!) { quotePurchase(input: $input) { quote { points } userErrors { code } } }`;
    expectBadInput(await agent.send(quote, { input: { memberId, basket: basket('10.00'), occurredAt: '9999-01-01T00:00:00Z' } }), 'occurredAt');
    const publish = `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { ruleSet { version } userErrors { code } } }`;
    const rules = { programId, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' };
    expectBadInput(await admin.send(publish, { input: { ...rules, effectiveFrom: '9999-01-01T00:00:00Z' } }), 'effectiveFrom');
    const campaign = { name: 'Forever', startsAt: graph.clock.now().toISOString(), endsAt: '9999-01-01T00:00:00Z', factor: '2' };
    expectBadInput(await admin.send(publish, { input: { ...rules, campaigns: [campaign] } }), 'campaigns.0.endsAt');
  });

  it('accepts a till clock a few minutes ahead, but not an hour', async () => {
    const now = graph.clock.now().getTime();
    const ok = await record(agent, { occurredAt: new Date(now + 4 * 60_000).toISOString() });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.recordPurchase.purchase?.pendingPoints).toBe(10);
    expectBadInput(await record(agent, { occurredAt: new Date(now + 3_600_000).toISOString() }), 'occurredAt');
  });

  it('holds tills and agents to the program’s purchaseMaxAgeDays (90 by default) with PURCHASE_TOO_OLD', async () => {
    const now = graph.clock.now().getTime();
    const late = await record(agent, { occurredAt: new Date(now - 89 * DAY).toISOString() });
    expect(late.data?.recordPurchase.userErrors).toEqual([]);
    const old = await record(agent, { occurredAt: new Date(now - 91 * DAY).toISOString() });
    expect(old.errors).toBeUndefined();
    expect(old.data?.recordPurchase).toMatchObject({ purchase: null, userErrors: [{ code: 'PURCHASE_TOO_OLD', field: 'occurredAt' }] });
  });

  it('lets the program’s admins import history up to ten years old, its points posted at once', async () => {
    const now = graph.clock.now().getTime();
    const imported = await record(admin, { occurredAt: new Date(now - 5 * 365 * DAY).toISOString() });
    expect(imported.data?.recordPurchase.userErrors).toEqual([]);
    expect(imported.data?.recordPurchase.purchase?.pendingPoints).toBe(0);
    expectBadInput(await record(admin, { occurredAt: '1970-01-01T00:00:00Z' }), 'occurredAt');
  });

  it('lets an admin widen the window for late partner files, within ten years', async () => {
    const configure = `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { settings { purchaseMaxAgeDays } userErrors { code } } }`;
    const { configureLedger } = await admin.data<{ configureLedger: { settings: { purchaseMaxAgeDays: number } } }>(configure, { input: { programId, purchaseMaxAgeDays: 200 } });
    expect(configureLedger.settings.purchaseMaxAgeDays).toBe(200);
    const now = graph.clock.now().getTime();
    const res = await record(agent, { occurredAt: new Date(now - 150 * DAY).toISOString() });
    expect(res.data?.recordPurchase.userErrors).toEqual([]);
    expectBadInput(await admin.send(configure, { input: { programId, purchaseMaxAgeDays: 3_651 } }), 'purchaseMaxAgeDays');
  });
});

describe('amounts beyond a documented bound', () => {
  it('refuses a basket of 501 lines and a line over a trillion, naming the field', async () => {
    const lines = Array.from({ length: 501 }, (_, i) => line('1.00', `l${i}`));
    expectBadInput(await record(agent, { basket: { currency: 'EUR', channel: 'STORE', lines } }), 'basket.lines', /at most 500/);
    expectBadInput(await record(agent, { basket: basket('1000000000000.01') }), 'basket.lines.0.amount', /at most 1000000000000/);
  });

  it('refuses adjustments, holds, transfers and donations outside their bounds, saying the range', async () => {
    const other = await enrol(agent, programId, 'plausible-friend@example.com');
    const adjust = `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { entry { id } userErrors { code } } }`;
    expectBadInput(await agent.send(adjust, { input: { idempotencyKey: key(), memberId, points: 10_000_001, reasonCode: 'GOODWILL', comment: 'too much' } }), 'points', /-10000000 to 10000000/);
    expectBadInput(await agent.send(adjust, { input: { idempotencyKey: key(), memberId, points: 0, reasonCode: 'GOODWILL', comment: 'nothing' } }), 'points');
    const hold = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code } } }`;
    expectBadInput(await agent.send(hold, { input: { idempotencyKey: key(), memberId, points: 0, reference: 'order-1' } }), 'points', /1 to 100000000/);
    const transfer = `mutation($input: TransferPointsInput!) { transferPoints(input: $input) { entry { id } userErrors { code } } }`;
    expectBadInput(await agent.send(transfer, { input: { idempotencyKey: key(), fromMemberId: memberId, toMemberId: other, points: -5 } }), 'points');
    expectBadInput(await agent.send(transfer, { input: { idempotencyKey: key(), fromMemberId: memberId, toMemberId: other, points: 1, message: 'x'.repeat(201) } }), 'message', /1 to 200/);
    const donate = `mutation($input: DonatePointsInput!) { donatePoints(input: $input) { entry { id } userErrors { code } } }`;
    expectBadInput(await agent.send(donate, { input: { idempotencyKey: key(), memberId, charityId: '00000000-0000-4000-8000-000000000000', points: 10_000_001 } }), 'points');
  });

  it('refuses a purchase that would take a balance past GraphQL’s Int as BALANCE_LIMIT_EXCEEDED, and the points still read', async () => {
    // 10,000 points per cent: a 1,000.00 line earns the most one purchase may, 1,000,000,000.
    const rich = await createTestProgram(graph, { name: 'Rich rules', rules: { currency: 'EUR', basePoints: 10_000, perAmount: '0.01', rounding: 'FLOOR' } });
    const holder = await enrol(rich.agent, rich.programId, 'rich@example.com');
    const buy = () => rich.agent.send<RecordResult>(RECORD, { input: { idempotencyKey: key(), memberId: holder, source: 'till-1', externalId: key(), basket: basket('1000.00') } });
    for (let i = 0; i < 2; i++) expect((await buy()).data?.recordPurchase.userErrors).toEqual([]);
    const third = await buy();
    expect(third.errors).toBeUndefined();
    expect(third.data?.recordPurchase).toMatchObject({ purchase: null, userErrors: [{ code: 'BALANCE_LIMIT_EXCEEDED', field: 'points' }] });
    const { member } = await rich.agent.data<{ member: { points: { pending: number; lifetimeEarned: number } } }>(`query($id: ID!) { member(id: $id) { points { pending lifetimeEarned } } }`, { id: holder });
    expect(member.points).toEqual({ pending: 2_000_000_000, lifetimeEarned: 2_000_000_000 });
  });

  it('refuses a return with an over-long reason before touching the purchase', async () => {
    const { data } = await record(agent, {});
    const ret = `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { return { id } userErrors { code } } }`;
    expectBadInput(await agent.send(ret, { input: { idempotencyKey: key(), purchaseId: data!.recordPurchase.purchase!.id, reason: 'r'.repeat(501) } }), 'reason');
  });

  it('refuses a point value no database column holds (it was an internal error) and a tier until year 9999', async () => {
    const operator = await graph.asOperator();
    const create = `mutation($amount: Decimal!) { createProgram(input: { name: "Rich", type: RECOGNITION, pointsCurrencyName: "gold", pointValue: { amount: $amount, currency: "EUR" } }) { program { id } userErrors { code } } }`;
    expectBadInput(await operator.send(create, { amount: '123456789012345678' }), 'pointValue.amount', /at most 1000000/);
    const assign = `mutation($input: AssignMemberTierInput!) { assignMemberTier(input: $input) { member { id } userErrors { code } } }`;
    expectBadInput(await agent.send(assign, { input: { memberId, tierId: null, reason: 'test', until: '9999-01-01T00:00:00Z' } }), 'until', /3650 days/);
  });
});

describe('money keeps its scale', () => {
  it('returns 50.50 EUR as "50.50", not "50.5", and rounds nothing', async () => {
    const res = await record(agent, { basket: { currency: 'EUR', channel: 'STORE', lines: [line('40.50', '1'), line('10.00', '2')] } });
    expect(res.data?.recordPurchase.purchase?.total).toEqual({ amount: '50.50', currency: 'EUR' });
    // Read back later from numeric(20,4), which pads it to 50.5000.
    const { member } = await agent.data<{ member: { statement: { nodes: { purchase: { id: string; total: { amount: string } } | null }[] } } }>(
      `query($id: ID!) { member(id: $id) { statement(first: 1) { nodes { purchase { id total { amount } } } } } }`,
      { id: memberId },
    );
    expect(member.statement.nodes[0]?.purchase).toEqual({ id: res.data!.recordPurchase.purchase!.id, total: { amount: '50.50' } });
  });

  it('refuses an amount with more decimals than its currency as BAD_USER_INPUT', async () => {
    expectBadInput(await record(agent, { basket: basket('10.005') }), 'basket.lines.0.amount', /EUR amounts have at most 2 decimals/);
  });

  it('shows a point value at the currency’s decimals, keeping a fraction of a cent, and the liability at cents', async () => {
    const operator = await graph.asOperator();
    const create = `mutation($amount: Decimal!, $currency: String!) {
      createProgram(input: { name: "Scale", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: $amount, currency: $currency }, status: ACTIVE }) {
        program { id pointValue { amount currency } } userErrors { code }
      }
    }`;
    const half = await operator.data<{ createProgram: { program: { id: string; pointValue: { amount: string } } } }>(create, { amount: '0.50', currency: 'EUR' });
    expect(half.createProgram.program.pointValue.amount).toBe('0.50');
    const read = `query($id: ID!) { program(id: $id) { pointValue { amount currency } } }`;
    // Read back from numeric(18,8), which pads to 0.50000000.
    expect((await operator.data<{ program: { pointValue: { amount: string } } }>(read, { id: half.createProgram.program.id })).program.pointValue.amount).toBe('0.50');
    const tiny = await operator.data<{ createProgram: { program: { id: string } } }>(create, { amount: '0.005', currency: 'EUR' });
    expect((await operator.data<{ program: { pointValue: { amount: string } } }>(read, { id: tiny.createProgram.program.id })).program.pointValue.amount).toBe('0.005');
  });

  it('keeps a JPY purchase whole and a KWD purchase at three decimals', async () => {
    for (const [currency, amount, perAmount, refused] of [
      ['JPY', '1500', '100', '100.5'],
      ['KWD', '1.250', '0.100', '1.2505'],
    ] as const) {
      const program = await createTestProgram(graph, { name: `In ${currency}`, rules: { currency, basePoints: 1, perAmount, rounding: 'FLOOR' } });
      const holder = await enrol(program.agent, program.programId, `${currency.toLowerCase()}@example.com`);
      const input = (value: string) => ({ input: { idempotencyKey: key(), memberId: holder, source: 'till-1', externalId: key(), basket: basket(value, currency) } });
      const res = await program.agent.send<RecordResult>(RECORD, input(amount));
      expect(res.data?.recordPurchase.purchase?.total).toEqual({ amount, currency });
      expectBadInput(await program.agent.send(RECORD, input(refused)), 'basket.lines.0.amount', new RegExp(`${currency} amounts have at most`));
    }
  });

  it('quotes a discount at the currency’s decimals: 10% of 50.50 EUR is "5.05", of 1,505 JPY "151"', async () => {
    const quote = `query($input: QuotePurchaseInput!) { quotePurchase(input: $input) { quote { discount { amount currency } } userErrors { code } } }`;
    for (const [currency, amount, perAmount, discount] of [
      ['EUR', '50.50', '1.00', '5.05'],
      ['JPY', '1505', '100', '151'],
    ] as const) {
      const shop = await createTestProgram(graph, { name: `Discount ${currency}`, rules: { currency, basePoints: 1, perAmount, rounding: 'FLOOR', discountPercent: '10' } });
      const holder = await enrol(shop.agent, shop.programId, `discount-${currency.toLowerCase()}@example.com`);
      const { quotePurchase } = await shop.agent.data<{ quotePurchase: { quote: { discount: { amount: string; currency: string } } } }>(quote, { input: { memberId: holder, basket: basket(amount, currency) } });
      expect(quotePurchase.quote.discount).toEqual({ amount: discount, currency });
    }
  });

  it('gives back the rates an admin published as they were written', async () => {
    const { programId: id, admin: rulesAdmin } = await createTestProgram(graph, { name: 'Rates', rules: { currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', minimumSpend: '20', multipliers: [{ dimension: 'CATEGORY', value: 'fuel', factor: '1.50' }] } });
    const { program } = await rulesAdmin.data<{ program: { earningRules: { perAmount: string; minimumSpend: string; multipliers: { factor: string }[] } } }>(
      `query($id: ID!) { program(id: $id) { earningRules { perAmount minimumSpend multipliers { factor } } } }`,
      { id },
    );
    // Rates as written; the minimum spend is money, so at cents.
    expect(program.earningRules).toEqual({ perAmount: '1.00', minimumSpend: '20.00', multipliers: [{ factor: '1.50' }] });
  });
});
