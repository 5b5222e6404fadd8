import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { emit } from '@loyalty-graph/shared/events';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Partner funding limits end to end: partners publishes terms and top-ups as events, the ledger
 * keeps them and refuses a partner-funded accrual its prepaid blocks or credit limit cannot cover
 * (PARTNER_FUNDING_EXHAUSTED), one at a time, in bulk and under a race; returns and settlements
 * give room back. Basic earning rules: 1 point per 1.00 EUR.
 */
let graph: TestSupergraph;
let p: TestProgram;
const members: string[] = [];

const eur = (amount: string) => ({ amount, currency: 'EUR' });
const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code field } } }`;
const PUBLISH = `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { agreement { version } userErrors { code field message } } }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key userErrors { code field } } }`;
const TOP_UP = `mutation($input: AddPartnerPrepaidPointsInput!) {
  addPartnerPrepaidPoints(input: $input) { prepaidBlock { points reference partner { id } } userErrors { code field message } }
}`;
const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code field message } } }`;
const RECORD_MANY = `mutation($input: RecordPurchasesInput!) {
  recordPurchases(input: $input) { lines { index status purchase { id } error { code field } } recorded rejected }
}`;
const RETURN = `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { return { points } userErrors { code message } } }`;
const FUNDING = `query($id: ID!) { partner(id: $id) { funding { mode prepaidPoints netIssuedPoints settledPoints creditLimitPoints remainingPoints } } }`;
const OWN_FUNDING = `{ partnerFunding { mode remainingPoints } }`;

interface Funding {
  mode: string;
  prepaidPoints: string;
  netIssuedPoints: string;
  settledPoints: string;
  creditLimitPoints: number | null;
  remainingPoints: string | null;
}
interface Recorded {
  recordPurchase: { purchase: { id: string; points: number } | null; userErrors: { code: string; field: string | null; message: string }[] };
}

async function partner(name: string): Promise<string> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(CREATE_PARTNER, {
    input: { idempotencyKey: `funding-partner-${randomUUID()}`, programId: p.programId, name, category: 'FUEL' },
  });
  return createPartner.partner.id;
}

async function publish(partnerId: string, terms: { prepaidPoints?: number; creditLimitPoints?: number; effectiveFrom?: string }): Promise<void> {
  const { publishPartnerAgreement } = await p.admin.data<{ publishPartnerAgreement: { userErrors: unknown[] } }>(PUBLISH, {
    input: {
      idempotencyKey: `funding-agreement-${randomUUID()}`,
      partnerId,
      currency: 'EUR',
      issuePricePerPoint: eur('0.01'),
      redemptionPricePerPoint: eur('0.008'),
      fees: { fixedPerPeriod: eur('0'), perTransaction: eur('0') },
      settlementPeriod: 'MONTHLY',
      ...terms,
    },
  });
  expect(publishPartnerAgreement.userErrors).toEqual([]);
  await graph.deliverEvents();
}

async function keyFor(partnerId: string, scopes = ['PURCHASES_WRITE', 'SETTLEMENT_READ']): Promise<Caller> {
  const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(CREATE_CLIENT, {
    input: { idempotencyKey: `funding-client-${randomUUID()}`, partnerId, name: 'Till', scopes },
  });
  return caller(graph.gatewayUrl, { 'x-api-key': createPartnerApiClient.key });
}

const basket = (points: number) => ({ currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'FUEL', category: 'fuel', quantity: 1, amount: `${points}.00` }] });
/** A partner's purchase earning `points`, for the n-th test member. */
const purchase = (points: number, externalId: string = randomUUID(), member = 0) => ({
  input: { idempotencyKey: randomUUID(), source: 'till', externalId, memberId: members[member]!, basket: basket(points) },
});

const funding = async (partnerId: string) => (await p.admin.data<{ partner: { funding: Funding } }>(FUNDING, { id: partnerId })).partner.funding;

/** The ledger's own record of a partner's purchases: the database is the judge, not the answers. */
async function stored(partnerId: string): Promise<{ purchases: number; points: number; orphanKeys: number }> {
  const ledger = graph.subgraphs['ledger']!.db;
  const [row] = (await ledger.query(`SELECT count(*)::int AS purchases, coalesce(sum(points), 0)::int AS points FROM purchases WHERE partner_id = $1`, [partnerId])) as { purchases: number; points: number }[];
  // A refused purchase rolls its idempotency key back with it: no key may point at no purchase.
  const [orphans] = (await ledger.query(
    `SELECT count(*)::int AS keys FROM idempotency_keys k WHERE k.operation = 'recordPurchase' AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.id = (k.result->>'purchaseId')::uuid)`,
  )) as { keys: number }[];
  return { ...row!, orphanKeys: orphans!.keys };
}

/** What settlement will send when a statement is paid: emitted by hand into partners' outbox. */
async function settle(partnerId: string, points: number, statementId: string = randomUUID()): Promise<void> {
  const now = graph.clock.now();
  await graph.subgraphs['partners']!.db.transaction((tx) =>
    emit(tx, partnersEvents, [{ type: 'PartnerPointsSettled', payload: { programId: p.programId, partnerId, statementId, points, settledAt: now.toISOString() } }], now),
  );
  await graph.deliverEvents();
}

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-06-01T10:00:00Z'));
  p = await createTestProgram(graph, { name: 'Funding program' });
  for (let n = 0; n < 20; n++) {
    const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "funding${n}@example.com" }] }) { member { id } } }`,
      { p: p.programId },
    );
    members.push(enrollMember.member.id);
  }
  await graph.deliverEvents();
});
afterAll(() => graph?.stop());

describe('a PREPAID partner', () => {
  let partnerId: string;
  let till: Caller;
  beforeAll(async () => {
    partnerId = await partner('Prepaid Fuel');
    till = await keyFor(partnerId);
    await publish(partnerId, { prepaidPoints: 100 });
  });

  it('issues up to its block; the purchase that would go beyond is refused and leaves nothing behind', async () => {
    expect(await funding(partnerId)).toEqual({ mode: 'PREPAID', prepaidPoints: '100', netIssuedPoints: '0', settledPoints: '0', creditLimitPoints: null, remainingPoints: '100' });
    const first = await till.data<Recorded>(RECORD, purchase(60));
    expect(first.recordPurchase.purchase?.points).toBe(60);

    const before = await stored(partnerId);
    const refused = await till.data<Recorded>(RECORD, purchase(41, 'tx-over-the-block'));
    expect(refused.recordPurchase.purchase).toBeNull();
    expect(refused.recordPurchase.userErrors).toEqual([{ code: 'PARTNER_FUNDING_EXHAUSTED', field: null, message: expect.stringContaining('40 points left') }]);
    expect(await stored(partnerId)).toEqual(before);

    const exact = await till.data<Recorded>(RECORD, purchase(40));
    expect(exact.recordPurchase.purchase?.points).toBe(40);
    expect(await funding(partnerId)).toMatchObject({ netIssuedPoints: '100', remainingPoints: '0' });
  });

  it('a top-up makes room again, and the refused transaction id can be sent again', async () => {
    const input = { idempotencyKey: `top-up-${randomUUID()}`, partnerId, points: 50, reference: 'INV-2026-001' };
    const { addPartnerPrepaidPoints } = await p.admin.data<{ addPartnerPrepaidPoints: unknown }>(TOP_UP, { input });
    expect(addPartnerPrepaidPoints).toEqual({ prepaidBlock: { points: 50, reference: 'INV-2026-001', partner: { id: partnerId } }, userErrors: [] });
    // A retry replays; the same invoice under another key adds nothing.
    expect((await p.admin.data<{ addPartnerPrepaidPoints: unknown }>(TOP_UP, { input })).addPartnerPrepaidPoints).toEqual(addPartnerPrepaidPoints);
    const again = await p.admin.data<{ addPartnerPrepaidPoints: { userErrors: unknown[] } }>(TOP_UP, { input: { ...input, idempotencyKey: `top-up-${randomUUID()}` } });
    expect(again.addPartnerPrepaidPoints.userErrors).toEqual([{ code: 'PREPAID_REFERENCE_USED', field: 'reference', message: expect.any(String) }]);
    await graph.deliverEvents();
    expect(await funding(partnerId)).toMatchObject({ prepaidPoints: '150', remainingPoints: '50' });

    const retried = await till.data<Recorded>(RECORD, purchase(41, 'tx-over-the-block'));
    expect(retried.recordPurchase.purchase?.points).toBe(41);
  });

  it('a return gives its points back to the block', async () => {
    const big = await till.data<Recorded>(RECORD, purchase(9));
    expect(await funding(partnerId)).toMatchObject({ netIssuedPoints: '150', remainingPoints: '0' });
    const { recordReturn } = await p.agent.data<{ recordReturn: { return: { points: number } | null } }>(RETURN, { input: { idempotencyKey: randomUUID(), purchaseId: big.recordPurchase.purchase!.id } });
    expect(recordReturn.return?.points).toBe(9);
    expect(await funding(partnerId)).toMatchObject({ netIssuedPoints: '141', remainingPoints: '9' });
    expect((await till.data<Recorded>(RECORD, purchase(9))).recordPurchase.userErrors).toEqual([]);
  });

  it('in bulk, a line the block cannot cover is REJECTED with the code; the others are recorded', async () => {
    const input = { idempotencyKey: `top-up-${randomUUID()}`, partnerId, points: 30, reference: 'INV-2026-002' };
    await p.admin.data(TOP_UP, { input });
    await graph.deliverEvents();
    const lines = [20, 20, 5].map((points, i) => ({ transactionId: `bulk-${randomUUID()}`, memberId: members[i]!, basket: basket(points) }));
    const { recordPurchases } = await till.data<{ recordPurchases: { lines: { index: number; status: string; error: { code: string; field: string } | null }[]; recorded: number; rejected: number } }>(
      RECORD_MANY,
      { input: { lines } },
    );
    // One of the two 20s gets the room, never both: a batch counts its own earlier lines of the partner.
    const rejected = recordPurchases.lines.filter((l) => l.status === 'REJECTED');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toEqual({ index: rejected[0]!.index, status: 'REJECTED', purchase: null, error: { code: 'PARTNER_FUNDING_EXHAUSTED', field: `lines.${rejected[0]!.index}` } });
    expect(recordPurchases).toMatchObject({ recorded: 2, rejected: 1 });
    expect(await funding(partnerId)).toMatchObject({ remainingPoints: '5' });
  });

  it('the partner sees its own funding with settlement:read, not without it; another program’s admin sees none', async () => {
    expect((await till.data<{ partnerFunding: unknown }>(OWN_FUNDING)).partnerFunding).toEqual({ mode: 'PREPAID', remainingPoints: '5' });
    const writeOnly = await keyFor(partnerId, ['PURCHASES_WRITE']);
    expect(errorCodes(await writeOnly.send(OWN_FUNDING))).toEqual(['FORBIDDEN']);
    const other = await createTestProgram(graph, { name: 'Other funding program', rules: null });
    expect(errorCodes(await other.admin.send(FUNDING, { id: partnerId }))).toContain('FORBIDDEN');
  });
});

describe('terms over time', () => {
  it('terms with a future effectiveFrom do not apply until then; an unlimited partner is never checked', async () => {
    const partnerId = await partner('Future Fuel');
    const till = await keyFor(partnerId);
    await publish(partnerId, { prepaidPoints: 10, effectiveFrom: new Date(graph.clock.now().getTime() + 3_600_000).toISOString() });
    expect((await funding(partnerId)).mode).toBe('UNLIMITED');
    expect((await till.data<Recorded>(RECORD, purchase(500))).recordPurchase.userErrors).toEqual([]);

    graph.clock.advance(3_600_000);
    // Issuance before the prepaid terms does not count against the block.
    expect(await funding(partnerId)).toMatchObject({ mode: 'PREPAID', prepaidPoints: '10', netIssuedPoints: '0', remainingPoints: '10' });
    expect((await till.data<Recorded>(RECORD, purchase(11))).recordPurchase.userErrors.map((e) => e.code)).toEqual(['PARTNER_FUNDING_EXHAUSTED']);
    expect((await till.data<Recorded>(RECORD, purchase(10))).recordPurchase.userErrors).toEqual([]);
  });
});

describe('a CREDIT partner', () => {
  it('issues up to its limit; a paid statement (PartnerPointsSettled) gives the settled points back', async () => {
    const partnerId = await partner('Credit Hotel');
    await publish(partnerId, { creditLimitPoints: 100 });
    // Staff recording for the partner (basket.partnerId) is held to the same limit.
    const staff = (points: number) => ({ input: { ...purchase(points).input, basket: { ...basket(points), partnerId } } });
    expect((await p.agent.data<Recorded>(RECORD, staff(80))).recordPurchase.userErrors).toEqual([]);
    expect((await p.agent.data<Recorded>(RECORD, staff(30))).recordPurchase.userErrors.map((e) => e.code)).toEqual(['PARTNER_FUNDING_EXHAUSTED']);

    const statementId = randomUUID();
    await settle(partnerId, 60, statementId);
    expect(await funding(partnerId)).toEqual({ mode: 'CREDIT', prepaidPoints: '0', netIssuedPoints: '80', settledPoints: '60', creditLimitPoints: 100, remainingPoints: '80' });
    // The same statement announced again (a producer's retry) settles nothing more.
    await settle(partnerId, 60, statementId);
    expect((await funding(partnerId)).settledPoints).toBe('60');
    expect((await p.agent.data<Recorded>(RECORD, staff(30))).recordPurchase.userErrors).toEqual([]);
  });
});

describe('racing at the limit', () => {
  it('100 purchases at once by 20 members never take a partner beyond its block; each refused one left nothing', async () => {
    const partnerId = await partner('Racing Fuel');
    const till = await keyFor(partnerId);
    await publish(partnerId, { prepaidPoints: 500 });
    // 100 × 7 points against 500: exactly 71 fit (497 points).
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => till.data<Recorded>(RECORD, purchase(7, `race-${i}`, i % 20))));
    const recorded = answers.filter((a) => a.recordPurchase.purchase);
    const refused = answers.filter((a) => a.recordPurchase.userErrors.some((e) => e.code === 'PARTNER_FUNDING_EXHAUSTED'));
    expect(recorded.length + refused.length).toBe(100);
    expect(recorded.length).toBe(71);

    // The ledger's own sums: the partner's funding account, purchases and idempotency keys.
    const ledger = graph.subgraphs['ledger']!.db;
    const [issued] = (await ledger.query(
      `SELECT (-sum(l.amount))::int AS points FROM journal_lines l JOIN accounts a ON a.id = l.account_id WHERE a.kind = 'PARTNER_FUNDING' AND a.owner_id = $1 AND l.bucket IN ('POSTED', 'PENDING')`,
      [partnerId],
    )) as { points: number }[];
    expect(issued!.points).toBe(497);
    expect(await stored(partnerId)).toEqual({ purchases: 71, points: 497, orphanKeys: 0 });
  });
});

describe('bulk calls are priced by their lines at the gateway', () => {
  const COUNTS_ONLY = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded rejected } }`;
  const lines = (count: number) => Array.from({ length: count }, (_, i) => ({ transactionId: `priced-${randomUUID()}`, memberId: members[i % members.length]!, basket: basket(1) }));
  interface Cost {
    requestedQueryCost: number;
    actualQueryCost: number;
    maximumQueryCost: number;
    throttleStatus: { maximumAvailable: number; currentlyAvailable: number };
  }

  it('a partner pays per line, and a full 1,000-line call fits its budget once, taking half of it', async () => {
    const till = await keyFor(await partner('Bulk Fuel'));
    const ten = await till.send<{ recordPurchases: { recorded: number } }>(RECORD_MANY, { input: { lines: lines(10) } });
    // payload 1 + mutation 10, per line: 2 for its work + report line, purchase and error 1 each
    expect(ten.extensions?.['cost']).toMatchObject({ requestedQueryCost: 11 + 10 * 5, actualQueryCost: 11 + 10 * 5, maximumQueryCost: 6000 });
    expect(ten.data?.recordPurchases.recorded).toBe(10);

    const full = await till.send<{ recordPurchases: { recorded: number } }>(RECORD_MANY, { input: { lines: lines(1000) } });
    expect(full.errors).toBeUndefined();
    expect(full.data?.recordPurchases.recorded).toBe(1000);
    const cost = full.extensions?.['cost'] as Cost;
    expect(cost).toMatchObject({ requestedQueryCost: 11 + 1000 * 5, actualQueryCost: 11 + 1000 * 5, maximumQueryCost: 6000, throttleStatus: { maximumAvailable: 10_000 } });
    // Charged before it ran, nothing given back (the lines did their work): under half the bucket is left.
    expect(cost.throttleStatus.currentlyAvailable).toBeLessThanOrEqual(10_000 - 5011);
  });

  it('a client with a small rateLimitPerMinute cannot send a call its budget could never pay, and waits after a large one', async () => {
    const partnerId = await partner('Small Kiosk');
    const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(CREATE_CLIENT, {
      input: { idempotencyKey: `funding-client-${randomUUID()}`, partnerId, name: 'Kiosk', scopes: ['PURCHASES_WRITE'], rateLimitPerMinute: 300 },
    });
    const kiosk = caller(graph.gatewayUrl, { 'x-api-key': createPartnerApiClient.key });

    const tooBig = await kiosk.send(COUNTS_ONLY, { input: { lines: lines(1000) } });
    expect(tooBig.status).toBe(400);
    expect(tooBig.errors?.[0]?.extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', cost: 11 + 1000 * 2, maximum: 300 });

    const hundred = await kiosk.send<{ recordPurchases: { recorded: number } }>(COUNTS_ONLY, { input: { lines: lines(100) } });
    expect(hundred.data?.recordPurchases.recorded).toBe(100);
    expect((hundred.extensions?.['cost'] as Cost).requestedQueryCost).toBe(211);
    const again = await kiosk.send(COUNTS_ONLY, { input: { lines: lines(100) } });
    expect(again.status).toBe(429);
    expect(errorCodes(again)).toEqual(['RATE_LIMITED']);
  });
});
