import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Settlement end to end with the real ledger and catalog: their events become items, the close job
 * reconciles with the ledger and closes weekly periods, late purchases become adjustments, payments
 * carry into the next statement, partners read only their own statements, and a difference with the
 * ledger keeps the period open, loudly.
 */
let graph: TestSupergraph;
let p: TestProgram;
let memberId: string;
let fuel: string;
let hotel: string;
let fuelReader: Caller;

const T0 = new Date('2026-06-01T08:00:00Z'); // a Monday: the first weekly period is 1–8 June
const WEEK_END = new Date('2026-06-08T00:00:00Z');
const HOUR = 3_600_000;

const STATEMENT_FIELDS = `id status periodStart periodEnd currency openingBalance { amount } netAmount { amount } payments { amount } closingBalance { amount }
  netIssuedPoints itemCount closedAt lines { kind adjustedKind points transactions amount { amount currency } }
  items(first: 100) { nodes { kind adjustment originalPeriodStart points pricePerPoint { amount } amount { amount } agreementVersion ledgerEntryId holdId purchaseId orderLineId } }`;
const CURRENT = `query($id: ID!) { currentSettlementStatement(partnerId: $id) { ${STATEMENT_FIELDS} } }`;
const BY_ID = `query($id: ID!) { settlementStatement(id: $id) { ${STATEMENT_FIELDS} csv payment { amount { amount } points reference } } }`;
const LIST = `query($id: ID!) { settlementStatements(partnerId: $id, first: 10) { nodes { id periodStart status } } }`;
const RECONCILE = `query($id: ID!) { settlementReconciliation(statementId: $id) { reconciled ledgerEntries problems { code reference } } }`;
const FAILURE = `query($id: ID!) { currentSettlementStatement(partnerId: $id) { id reconciliationFailure { attempts problems { code reference } } } }`;
const PAY = `mutation($input: MarkSettlementStatementPaidInput!) { markSettlementStatementPaid(input: $input) { statement { id payment { amount { amount } points reference } } userErrors { code field } } }`;

type Line = { kind: string; adjustedKind: string | null; points: number; transactions: number; amount: { amount: string } };
type Statement = {
  id: string;
  status: string;
  periodStart: string;
  periodEnd: string;
  openingBalance: { amount: string };
  netAmount: { amount: string };
  payments: { amount: string };
  closingBalance: { amount: string };
  netIssuedPoints: number;
  itemCount: number;
  lines: Line[];
  items: { nodes: { kind: string; adjustment: boolean; originalPeriodStart: string | null; points: number; ledgerEntryId: string | null; holdId: string | null; orderLineId: string | null }[] };
  csv?: string;
};

let n = 0;
const key = (label: string) => `settle-${label}-${++n}`;
const line = (s: Statement, kind: string, adjustedKind: string | null = null) => s.lines.find((l) => l.kind === kind && l.adjustedKind === adjustedKind);

async function createPartner(name: string, issuePrice: string, redemptionPrice: string): Promise<string> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`, {
    input: { idempotencyKey: key('partner'), programId: p.programId, name, category: 'FUEL' },
  });
  const id = createPartner.partner.id;
  const eur = (amount: string) => ({ amount, currency: 'EUR' });
  const { publishPartnerAgreement } = await p.admin.data<{ publishPartnerAgreement: { userErrors: unknown[] } }>(
    `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { userErrors { code field message } } }`,
    { input: { idempotencyKey: key('agreement'), partnerId: id, currency: 'EUR', issuePricePerPoint: eur(issuePrice), redemptionPricePerPoint: eur(redemptionPrice), fees: { fixedPerPeriod: eur('10'), perTransaction: eur('0.05') }, settlementPeriod: 'WEEKLY' } },
  );
  expect(publishPartnerAgreement.userErrors).toEqual([]);
  return id;
}

async function keyFor(partnerId: string, scopes: string[]): Promise<Caller> {
  const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(`mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key } }`, {
    input: { idempotencyKey: key('client'), partnerId, name: 'Back office', scopes },
  });
  return caller(graph.gatewayUrl, { 'x-api-key': createPartnerApiClient.key });
}

/** A purchase at a partner, recorded by the program's admin (who may date it in the past). */
async function purchase(partnerId: string, amount: string, occurredAt?: Date): Promise<{ id: string; points: number }> {
  const { recordPurchase } = await p.admin.data<{ recordPurchase: { purchase: { id: string; points: number } | null; userErrors: unknown[] } }>(
    `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code field message } } }`,
    {
      input: {
        idempotencyKey: key('purchase'),
        memberId,
        source: 'till',
        externalId: randomUUID(),
        basket: { currency: 'EUR', channel: 'PARTNER', partnerId, lines: [{ lineId: '1', sku: 'FUEL', category: 'fuel', quantity: 1, amount }] },
        ...(occurredAt ? { occurredAt: occurredAt.toISOString() } : {}),
      },
    },
  );
  expect(recordPurchase.userErrors).toEqual([]);
  return recordPurchase.purchase!;
}

async function redeem(partnerId: string, points: number, quantity: number): Promise<string> {
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } } }>(`mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } } }`, {
    input: { idempotencyKey: key('reward'), programId: p.programId, type: 'PARTNER_SERVICE', details: { defaultLocale: 'en', translations: [{ locale: 'en', name: `Car wash ${n}` }], points, partnerId } },
  });
  const member = await graph.asMember(p.programId, memberId);
  const { placeRewardOrder } = await member.data<{ placeRewardOrder: { order: { status: string; lines: { id: string }[] } | null; userErrors: unknown[] } }>(
    `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { status lines { id } } userErrors { code field message } } }`,
    { input: { idempotencyKey: key('order'), memberId, lines: [{ rewardId: createReward.reward.id, quantity }] } },
  );
  expect(placeRewardOrder.userErrors).toEqual([]);
  return placeRewardOrder.order!.lines[0]!.id;
}

const current = async (partnerId: string, as: Caller = p.admin) => (await as.data<{ currentSettlementStatement: Statement | null }>(CURRENT, { id: partnerId })).currentSettlementStatement!;
const byId = async (id: string, as: Caller = p.admin) => (await as.data<{ settlementStatement: Statement | null }>(BY_ID, { id })).settlementStatement;
const closeJob = async () => (await graph.subgraphs['partners']!.runJobs())['settlement-close'];

beforeAll(async () => {
  graph = await startSupergraph({ gateway: { limits: { budgets: { staff: { capacity: 1_000_000, restoreRate: 100_000 }, member: { capacity: 100_000, restoreRate: 10_000 } } } } });
  graph.clock.set(T0);
  p = await createTestProgram(graph, { name: 'Settlement program' });
  const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "settle@example.com" }] }) { member { id } } }`,
    { p: p.programId },
  );
  memberId = enrollMember.member.id;
  fuel = await createPartner('Nordic Fuel', '0.01', '0.0075');
  hotel = await createPartner('Harbour Hotel', '0.02', '0.01');
  fuelReader = await keyFor(fuel, ['SETTLEMENT_READ']);
  await graph.deliverEvents();
  // Spendable points for redemptions (purchases' points stay pending for the return window).
  const { adjustPoints } = await p.agent.data<{ adjustPoints: { userErrors: unknown[] } }>(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
    i: { idempotencyKey: key('points'), memberId, points: 10_000, reasonCode: 'GOODWILL', comment: 'points to redeem' },
  });
  expect(adjustPoints.userErrors).toEqual([]);
});
afterAll(() => graph?.stop());

describe('settlement statements', () => {
  let first: Statement;
  let accrualEntry: string;

  it('show the open week as it stands: issued, returned, redeemed, fees, each item with its ledger references', async () => {
    graph.clock.set(new Date(T0.getTime() + HOUR));
    const bought = await purchase(fuel, '1000.00'); // 1,000 points at 0.01
    await purchase(fuel, '500.00');
    const { recordReturn } = await p.admin.data<{ recordReturn: { userErrors: unknown[] } }>(`mutation($input: RecordReturnInput!) { recordReturn(input: $input) { userErrors { code } } }`, {
      input: { idempotencyKey: key('return'), purchaseId: bought.id },
    });
    expect(recordReturn.userErrors).toEqual([]);
    const lineId = await redeem(fuel, 200, 2); // 400 points at 0.0075
    await purchase(hotel, '300.00');
    await graph.deliverEvents();

    const open = await current(fuel);
    expect(open).toMatchObject({ status: 'PROVISIONAL', periodStart: '2026-06-01T00:00:00.000Z', periodEnd: WEEK_END.toISOString(), openingBalance: { amount: '0.00' }, itemCount: 4 });
    expect(line(open, 'ISSUED')).toMatchObject({ points: 1500, transactions: 2, amount: { amount: '15.00', currency: 'EUR' } });
    expect(line(open, 'RETURNED')).toMatchObject({ points: -1000, amount: { amount: '-10.00' } });
    expect(line(open, 'REDEEMED')).toMatchObject({ points: 400, amount: { amount: '-3.00' } });
    expect(line(open, 'FEE_FIXED')).toMatchObject({ amount: { amount: '10.00' } });
    expect(line(open, 'FEE_PER_TRANSACTION')).toMatchObject({ transactions: 3, amount: { amount: '0.15' } });
    expect(open).toMatchObject({ netAmount: { amount: '12.15' }, closingBalance: { amount: '12.15' }, netIssuedPoints: 500 });
    const redeemed = open.items.nodes.find((i) => i.kind === 'REDEEMED')!;
    expect(redeemed).toMatchObject({ points: 400, orderLineId: lineId, holdId: expect.any(String) });
    accrualEntry = open.items.nodes.find((i) => i.kind === 'ISSUED')!.ledgerEntryId!;
    const [entry] = (await graph.subgraphs['ledger']!.db.query(`SELECT kind, purchase_id AS "purchaseId" FROM journal_entries WHERE id = $1`, [accrualEntry])) as { kind: string; purchaseId: string }[];
    expect(entry).toEqual({ kind: 'ACCRUAL', purchaseId: expect.any(String) });
  });

  it('close by the job once the week and the grace are over, reconciled to the ledger, and announce it', async () => {
    graph.clock.set(new Date(WEEK_END.getTime() + HOUR - 60_000));
    expect(await closeJob()).toBe(0); // inside the grace: still open
    graph.clock.set(new Date(WEEK_END.getTime() + HOUR + 60_000));
    expect(await closeJob()).toBe(2); // both partners' first weeks
    expect(await closeJob()).toBe(0); // twice is once

    const { settlementStatements } = await p.admin.data<{ settlementStatements: { nodes: { id: string; status: string }[] } }>(LIST, { id: fuel });
    expect(settlementStatements.nodes).toHaveLength(1);
    first = (await byId(settlementStatements.nodes[0]!.id))!;
    expect(first).toMatchObject({ status: 'CLOSED', netAmount: { amount: '12.15' }, closingBalance: { amount: '12.15' }, itemCount: 4 });
    const { settlementReconciliation } = await p.admin.data<{ settlementReconciliation: { reconciled: boolean; ledgerEntries: number } }>(RECONCILE, { id: first.id });
    expect(settlementReconciliation).toEqual({ reconciled: true, ledgerEntries: 3, problems: [] });

    const csv = first.csv!.split('\r\n');
    expect(csv[0]).toBe('record,statement_id,kind,adjusted_kind,adjustment,original_period_start,occurred_at,points,transactions,price_per_point,amount,currency,agreement_version,item_id,ledger_entry_id,hold_id,purchase_id,order_id,order_line_id');
    expect(csv.filter((row) => row.startsWith('ITEM,'))).toHaveLength(4);
    expect(csv.some((row) => row.includes(accrualEntry))).toBe(true);

    const events = (await graph.subgraphs['partners']!.db.query(`SELECT payload FROM outbox WHERE event_type = 'SettlementStatementClosed' AND payload->>'statementId' = $1`, [first.id])) as { payload: Record<string, string> }[];
    expect(events.map((e) => e.payload)).toEqual([expect.objectContaining({ partnerId: fuel, netAmount: '12.15', currency: 'EUR', periodEnd: WEEK_END.toISOString() })]);
  });

  it('turn a purchase recorded late into an adjustment of the open week, never an edit of the closed one', async () => {
    const late = new Date('2026-06-05T12:00:00Z');
    await purchase(fuel, '250.00', late);
    await graph.deliverEvents();
    const open = await current(fuel);
    expect(open).toMatchObject({ periodStart: WEEK_END.toISOString(), openingBalance: { amount: '12.15' } });
    expect(line(open, 'ADJUSTMENT', 'ISSUED')).toMatchObject({ points: 250, transactions: 1, amount: { amount: '2.50' } });
    expect(open.items.nodes[0]).toMatchObject({ adjustment: true, originalPeriodStart: '2026-06-01T00:00:00.000Z' });
    expect(await byId(first.id)).toEqual(first);
    // The database refuses any edit of a closed statement or of its items.
    const partners = graph.subgraphs['partners']!.db;
    await expect(partners.query(`UPDATE settlement_statements SET net_amount = 0 WHERE id = $1`, [first.id])).rejects.toThrow(/never changed/);
    await expect(partners.query(`DELETE FROM settlement_items WHERE statement_id = $1`, [first.id])).rejects.toThrow(/never changed/);
  });

  it('record a payment once; the next statement counts it and opens with the previous closing balance', async () => {
    const paid = await p.admin.data<{ markSettlementStatementPaid: { statement: { payment: unknown }; userErrors: unknown[] } }>(PAY, { input: { statementId: first.id, reference: 'SEPA-2026-06-09' } });
    expect(paid.markSettlementStatementPaid).toEqual({ statement: { id: first.id, payment: { amount: { amount: '12.15' }, points: 500, reference: 'SEPA-2026-06-09' } }, userErrors: [] });
    const again = await p.admin.data<{ markSettlementStatementPaid: { statement: { payment: unknown } } }>(PAY, { input: { statementId: first.id, reference: 'another' } });
    expect(again.markSettlementStatementPaid.statement.payment).toEqual({ amount: { amount: '12.15' }, points: 500, reference: 'SEPA-2026-06-09' });
    const settled = (await graph.subgraphs['partners']!.db.query(`SELECT payload FROM outbox WHERE event_type = 'PartnerPointsSettled'`)) as { payload: Record<string, unknown> }[];
    expect(settled.map((e) => e.payload)).toEqual([expect.objectContaining({ statementId: first.id, partnerId: fuel, points: 500 })]);

    const open = await current(fuel);
    const notClosed = await p.admin.data<{ markSettlementStatementPaid: { userErrors: { code: string }[] } }>(PAY, { input: { statementId: open.id } });
    expect(notClosed.markSettlementStatementPaid.userErrors).toEqual([{ code: 'STATEMENT_NOT_CLOSED', field: 'statementId' }]);

    graph.clock.set(new Date(WEEK_END.getTime() + 7 * 24 * HOUR + HOUR + 60_000));
    expect(await closeJob()).toBe(2);
    const second = (await byId(open.id))!;
    // 12.15 owed, paid 12.15; this week: the late 250 points (2.50), the fee (10) and one transaction (0.05).
    expect(second).toMatchObject({ status: 'CLOSED', openingBalance: { amount: '12.15' }, netAmount: { amount: '12.55' }, payments: { amount: '12.15' }, closingBalance: { amount: '12.55' } });
  });

  it('let a partner read its own statements with settlement:read, and nobody else’s', async () => {
    const own = await current(fuel, fuelReader);
    expect(own.status).toBe('PROVISIONAL');
    expect((await byId(first.id, fuelReader))!.id).toBe(first.id);
    const hotelStatement = await current(hotel);
    expect(errorCodes(await fuelReader.send(BY_ID, { id: hotelStatement.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fuelReader.send(CURRENT, { id: hotel }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fuelReader.send(LIST, { id: hotel }))).toEqual(['FORBIDDEN']);
    // Reconciliation and payments are the program's admins'.
    expect(errorCodes(await fuelReader.send(RECONCILE, { id: first.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fuelReader.send(PAY, { input: { statementId: first.id } }))).toEqual(['FORBIDDEN']);

    const withoutScope = await keyFor(fuel, ['PURCHASES_WRITE']);
    expect(errorCodes(await withoutScope.send(CURRENT, { id: fuel }))).toEqual(['FORBIDDEN']);
    const member = await graph.asMember(p.programId, memberId);
    expect(errorCodes(await member.send(BY_ID, { id: first.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graph.anonymous.send(BY_ID, { id: first.id }))).toEqual(['UNAUTHENTICATED']);
    const otherProgram = await createTestProgram(graph, { name: 'Elsewhere', rules: null });
    expect(errorCodes(await otherProgram.admin.send(BY_ID, { id: first.id }))).toEqual(['FORBIDDEN']);
    const agent = await p.agent.data<{ settlementStatement: { id: string } }>(`query($id: ID!) { settlementStatement(id: $id) { id } }`, { id: first.id });
    expect(agent.settlementStatement.id).toBe(first.id);
    expect(errorCodes(await p.agent.send(RECONCILE, { id: first.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await p.admin.send(`query { settlementStatement(id: "nope") { id } }`))).toEqual(['BAD_USER_INPUT']);
    // The ledger's reconciliation queries answer internal services only.
    expect(errorCodes(await p.admin.send(`query($p: ID!, $id: ID!) { partnerFundingEntries(programId: $p, partnerId: $id, postedBefore: "2030-01-01T00:00:00Z") { nodes { entryId } } }`, { p: p.programId, id: fuel }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fuelReader.send(`query($id: ID!) { pointsHolds(ids: [$id]) { id } }`, { id: fuel }))).toEqual(['FORBIDDEN']);
  });

  it('stay open, loudly, when the ledger holds an entry no item settles, and close once it arrives', async () => {
    // A purchase the partners subgraph has not heard of yet at the close (its event undelivered).
    const weekTwoEnd = new Date(WEEK_END.getTime() + 14 * 24 * HOUR);
    graph.clock.set(new Date(weekTwoEnd.getTime() - 2 * HOUR));
    await purchase(hotel, '40.00');
    graph.clock.set(new Date(weekTwoEnd.getTime() + HOUR + 60_000));
    const hotelOpen = await current(hotel);
    expect(await closeJob()).toBe(1); // the fuel partner's week closes; the hotel's does not
    const failed = await p.admin.data<{ currentSettlementStatement: { id: string; reconciliationFailure: { attempts: number; problems: { code: string }[] } } }>(FAILURE, { id: hotel });
    expect(failed.currentSettlementStatement).toMatchObject({ id: hotelOpen.id, reconciliationFailure: { attempts: 1, problems: [{ code: 'MISSING_ITEM' }] } });
    const { settlementReconciliation } = await p.admin.data<{ settlementReconciliation: { reconciled: boolean; problems: { code: string }[] } }>(RECONCILE, { id: hotelOpen.id });
    expect(settlementReconciliation).toMatchObject({ reconciled: false, problems: [{ code: 'MISSING_ITEM' }] });
    // Partners never see the reconciliation failure.
    expect(errorCodes(await fuelReader.send(FAILURE, { id: fuel }))).toEqual(['FORBIDDEN']);

    await graph.deliverEvents();
    expect(await closeJob()).toBe(1);
    expect((await byId(hotelOpen.id))!.status).toBe('CLOSED');
  });

  it('refuse to close when an item disagrees with its ledger entry', async () => {
    const weekThreeEnd = new Date(WEEK_END.getTime() + 21 * 24 * HOUR);
    graph.clock.set(new Date(weekThreeEnd.getTime() - 2 * HOUR));
    await purchase(fuel, '70.00');
    await graph.deliverEvents();
    // Tampering behind the triggers' back (as a superuser could): the item claims 1 point more.
    const partners = graph.subgraphs['partners']!.db;
    await partners.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      await tx.query(`UPDATE settlement_items SET points = points + 1 WHERE partner_id = $1 AND statement_id IS NULL AND kind = 'ISSUED'`, [fuel]);
    });
    graph.clock.set(new Date(weekThreeEnd.getTime() + HOUR + 60_000));
    await closeJob();
    const failed = await p.admin.data<{ currentSettlementStatement: { reconciliationFailure: { problems: { code: string }[] } | null; } }>(FAILURE, { id: fuel });
    expect(failed.currentSettlementStatement.reconciliationFailure?.problems.map((x) => x.code)).toEqual(['POINTS_MISMATCH']);
  });

  it('close once and record a payment once when runs and requests race', async () => {
    // The hotel's next week is due; four runs at once (as on several replicas) close it once.
    const before = await current(hotel);
    graph.clock.set(new Date(WEEK_END.getTime() + 28 * 24 * HOUR + HOUR + 60_000));
    const runs = await Promise.all([closeJob(), closeJob(), closeJob(), closeJob()]);
    expect(runs.reduce((total, ran) => (total ?? 0) + (ran ?? 0), 0)).toBe(1);
    const partners = graph.subgraphs['partners']!.db;
    const rows = (await partners.query(`SELECT id FROM settlement_statements WHERE partner_id = $1 AND period_start = $2`, [hotel, before.periodStart])) as unknown[];
    expect(rows).toHaveLength(1);
    const closedEvents = (await partners.query(`SELECT 1 FROM outbox WHERE event_type = 'SettlementStatementClosed' AND payload->>'statementId' = $1`, [before.id])) as unknown[];
    expect(closedEvents).toHaveLength(1);

    // Ten payment requests at once, with different references: one payment, one event.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => p.admin.data<{ markSettlementStatementPaid: { userErrors: unknown[] } }>(PAY, { input: { statementId: before.id, reference: `ref-${i}` } })));
    expect(answers.every((a) => a.markSettlementStatementPaid.userErrors.length === 0)).toBe(true);
    expect(await partners.query(`SELECT 1 FROM settlement_payments WHERE statement_id = $1`, [before.id])).toHaveLength(1);
    expect(await partners.query(`SELECT 1 FROM outbox WHERE event_type = 'PartnerPointsSettled' AND payload->>'statementId' = $1`, [before.id])).toHaveLength(1);
  });
});
