import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * The points ledger through the gateway, as a till, an agent, an admin and a member use it:
 * earn (pending through the return window), spend through holds, correct by hand, and read
 * balances, statements and program totals composed with the members subgraph.
 */
let graph: TestSupergraph;
let programId: string;
let memberId: string;
let admin: Caller;
let agent: Caller;
let member: Caller;
const DAY = 86_400_000;

const RECORD = `mutation($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) {
    purchase { id points statusPoints pendingPoints lines { lineId points explanation } }
    entry { id kind memberAmount lines { bucket amount account { kind } } }
    userErrors { code field message }
  }
}`;
const POINTS = `query($id: ID!) { member(id: $id) { points { available posted pending held lifetimeEarned statusPoints } } }`;

const basket = (fuel: string, snacks: string) => ({
  currency: 'EUR',
  channel: 'STORE',
  lines: [
    { lineId: '1', sku: 'DIESEL', category: 'fuel', quantity: 1, amount: fuel },
    { lineId: '2', sku: 'CHIPS', category: 'snacks', quantity: 2, amount: snacks },
  ],
});

async function points(caller: Caller = agent) {
  const { member: m } = await caller.data<{ member: { points: Record<string, number> } }>(POINTS, { id: memberId });
  return m.points;
}

beforeAll(async () => {
  graph = await startSupergraph();
  const operator = await graph.asOperator();
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Fuel", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
  );
  programId = createProgram.program.id;
  admin = await graph.asStaff(programId, ['ADMIN'], 'admin-1');
  agent = await graph.asStaff(programId, ['AGENT'], 'agent-1');
  const published = await admin.data<{ publishEarningRules: { ruleSet: { version: number }; userErrors: unknown[] } }>(
    `mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR,
        multipliers: [{ dimension: CATEGORY, value: "fuel", factor: "2" }] }) { ruleSet { version } userErrors { code message } } }`,
    { p: programId },
  );
  expect(published.publishEarningRules.ruleSet.version).toBe(1);
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "eve@example.com" }] }) { member { id } } }`,
    { p: programId },
  );
  memberId = enrollMember.member.id;
  member = await graph.asMember(programId, memberId);
});
afterAll(() => graph?.stop());

describe('earning', () => {
  it('quotes a basket rule by rule without recording anything', async () => {
    const { quotePurchase } = await agent.data<{ quotePurchase: { quote: { points: number; lines: { lineId: string; points: number; explanation: string[] }[] } } }>(
      `query($input: QuotePurchaseInput!) { quotePurchase(input: $input) { quote { points lines { lineId points explanation } } userErrors { code } } }`,
      { input: { memberId, basket: basket('25.00', '10.50') } },
    );
    expect(quotePurchase.quote.points).toBe(60);
    expect(quotePurchase.quote.lines.map((l) => l.points)).toEqual([50, 10]);
    expect(quotePurchase.quote.lines[0]!.explanation.join(' | ')).toContain('CATEGORY fuel ×2');
    expect(await points()).toMatchObject({ pending: 0, posted: 0 });
  });

  it('records a purchase as pending points that are not spendable yet', async () => {
    const { recordPurchase } = await agent.data<{ recordPurchase: { purchase: { points: number; pendingPoints: number }; entry: { kind: string; lines: { bucket: string; amount: number; account: { kind: string } }[] } } }>(RECORD, {
      input: { idempotencyKey: 'purchase-0001', memberId, source: 'till-7', externalId: 'R-1', basket: basket('25.00', '10.50') },
    });
    expect(recordPurchase.purchase).toMatchObject({ points: 60, pendingPoints: 60 });
    expect(recordPurchase.entry.kind).toBe('ACCRUAL');
    // Double entry: the member's pending credit is the program's pending debit.
    expect(recordPurchase.entry.lines).toContainEqual({ bucket: 'PENDING', amount: 60, account: { kind: 'MEMBER_REWARD' } });
    expect(recordPurchase.entry.lines).toContainEqual({ bucket: 'PENDING', amount: -60, account: { kind: 'ISSUANCE' } });
    expect(await points()).toMatchObject({ available: 0, pending: 60, posted: 0, lifetimeEarned: 60, statusPoints: 60 });
  });

  it('answers a retried request with the original result and changes nothing', async () => {
    const input = { idempotencyKey: 'purchase-0001', memberId, source: 'till-7', externalId: 'R-1', basket: basket('25.00', '10.50') };
    const first = await agent.data<{ recordPurchase: { purchase: { id: string } } }>(RECORD, { input });
    const again = await agent.data<{ recordPurchase: { purchase: { id: string } } }>(RECORD, { input });
    expect(again.recordPurchase.purchase.id).toBe(first.recordPurchase.purchase.id);
    expect(await points()).toMatchObject({ pending: 60 });
  });

  it('refuses the same key with a different request (CONFLICT) and the same purchase under a new key', async () => {
    const changed = await agent.send(RECORD, { input: { idempotencyKey: 'purchase-0001', memberId, source: 'till-7', externalId: 'R-1', basket: basket('99.00', '10.50') } });
    expect(errorCodes(changed)).toEqual(['CONFLICT']);
    const sameSale = await agent.data<{ recordPurchase: { userErrors: { code: string }[] } }>(RECORD, {
      input: { idempotencyKey: 'purchase-0002', memberId, source: 'till-7', externalId: 'R-1', basket: basket('25.00', '10.50') },
    });
    expect(sameSale.recordPurchase.userErrors.map((e) => e.code)).toEqual(['PURCHASE_ALREADY_RECORDED']);
    expect(await points()).toMatchObject({ pending: 60 });
  });

  it('posts pending points when the return window closes', async () => {
    graph.clock.advance(13 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    expect(await points()).toMatchObject({ pending: 60, available: 0 });
    graph.clock.advance(2 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    expect(await points()).toMatchObject({ pending: 0, posted: 60, available: 60 });
  });
});

describe('spending through holds', () => {
  const HOLD = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id status points } userErrors { code } } }`;
  const CAPTURE = `mutation($input: HoldActionInput!) { captureHold(input: $input) { hold { id status } userErrors { code } } }`;

  it('reserves, refuses more than is available, then captures', async () => {
    const { holdPoints } = await agent.data<{ holdPoints: { hold: { id: string; status: string } } }>(HOLD, { input: { idempotencyKey: 'hold-000001', memberId, points: 50, reference: 'order-1' } });
    expect(holdPoints.hold.status).toBe('OPEN');
    expect(await points()).toMatchObject({ posted: 60, held: 50, available: 10 });

    const tooMuch = await agent.data<{ holdPoints: { userErrors: { code: string }[] } }>(HOLD, { input: { idempotencyKey: 'hold-000002', memberId, points: 11, reference: 'order-2' } });
    expect(tooMuch.holdPoints.userErrors.map((e) => e.code)).toEqual(['INSUFFICIENT_POINTS']);

    const { captureHold } = await agent.data<{ captureHold: { hold: { status: string } } }>(CAPTURE, { input: { idempotencyKey: 'capture-0001', holdId: holdPoints.hold.id } });
    expect(captureHold.hold.status).toBe('CAPTURED');
    expect(await points()).toMatchObject({ posted: 10, held: 0, available: 10 });

    const twice = await agent.data<{ captureHold: { userErrors: { code: string }[] } }>(CAPTURE, { input: { idempotencyKey: 'capture-0002', holdId: holdPoints.hold.id } });
    expect(twice.captureHold.userErrors.map((e) => e.code)).toEqual(['HOLD_NOT_OPEN']);
  });

  it('releases a forgotten hold by itself when it expires', async () => {
    const { holdPoints } = await agent.data<{ holdPoints: { hold: { id: string } } }>(HOLD, { input: { idempotencyKey: 'hold-000003', memberId, points: 10, reference: 'order-3' } });
    expect(await points()).toMatchObject({ available: 0, held: 10 });
    graph.clock.advance(61 * 60_000);
    await graph.subgraphs['ledger']!.runJobs();
    expect(await points()).toMatchObject({ available: 10, held: 0 });
    const { captureHold } = await agent.data<{ captureHold: { userErrors: { code: string }[] } }>(CAPTURE, { input: { idempotencyKey: 'capture-0003', holdId: holdPoints.hold.id } });
    expect(captureHold.userErrors.map((e) => e.code)).toEqual(['HOLD_NOT_OPEN']);
  });
});

describe('adjustments, statements and totals', () => {
  it('lets an agent correct a balance with a reason, visible on the member’s own statement', async () => {
    const { adjustPoints } = await agent.data<{ adjustPoints: { entry: { kind: string; memberAmount: number } } }>(
      `mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { entry { kind memberAmount } userErrors { code } } }`,
      { input: { idempotencyKey: 'adjust-0001', memberId, points: 100, reasonCode: 'GOODWILL', comment: 'Pump 4 was broken' } },
    );
    expect(adjustPoints.entry).toEqual({ kind: 'ADJUSTMENT', memberAmount: 100 });

    // One query, two subgraphs: the member's profile from members, points and statement from the ledger.
    const { me } = await member.data<{ me: { id: string; points: { available: number }; statement: { nodes: { kind: string; reasonCode: string | null; createdBy: string | null; description: string | null }[] } } }>(
      `{ me { id points { available } statement(first: 10) { nodes { kind memberAmount reasonCode createdBy description } } } }`,
    );
    expect(me.points.available).toBe(110);
    expect(me.statement.nodes[0]).toMatchObject({ kind: 'ADJUSTMENT', reasonCode: 'GOODWILL', description: 'Pump 4 was broken' });
    // Which agent did it is for staff, not for the member.
    expect(me.statement.nodes[0]!.createdBy).toBeNull();
    const { member: asAgent } = await agent.data<{ member: { statement: { nodes: { createdBy: string }[] } } }>(
      `query($id: ID!) { member(id: $id) { statement(first: 1) { nodes { createdBy } } } }`,
      { id: memberId },
    );
    expect(asAgent.statement.nodes[0]!.createdBy).toBe('agent-1');
    expect(me.statement.nodes.map((n) => n.kind)).toEqual(['ADJUSTMENT', 'RELEASE', 'HOLD', 'CAPTURE', 'HOLD', 'POSTING', 'ACCRUAL']);
  });

  it('gives admins program totals with the liability valued at the point value from members', async () => {
    const { program } = await admin.data<{ program: { pointsTotals: Record<string, unknown> } }>(
      `query($p: ID!) { program(id: $p) { pointsTotals { issued redeemed expired outstanding outstandingLiability { amount currency } } } }`,
      { p: programId },
    );
    expect(program.pointsTotals).toEqual({ issued: '60', redeemed: '50', expired: '0', outstanding: '110', outstandingLiability: { amount: '1.10', currency: 'EUR' } });
  });

  it('keeps members out of other members’ points and out of adjusting their own', async () => {
    const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "mallory@example.com" }] }) { member { id } } }`,
      { p: programId },
    );
    const other = await graph.asMember(programId, enrollMember.member.id);
    expect(errorCodes(await other.send(POINTS, { id: memberId }))).toContain('FORBIDDEN');
    const memberAdjusting = await member.send(`mutation { adjustPoints(input: { idempotencyKey: "self-gift-1", memberId: "${memberId}", points: 1000, reasonCode: OTHER, comment: "me" }) { entry { id } } }`);
    expect(errorCodes(memberAdjusting)).toEqual(['FORBIDDEN']);
    expect(await points()).toMatchObject({ available: 110 });
  });
});

describe('scheduled jobs', () => {
  it('are visible to platform operators with their next and last runs, and to nobody else', async () => {
    await graph.subgraphs['ledger']!.scheduler!.tick();
    const operator = await graph.asOperator();
    const { ledgerJobs } = await operator.data<{ ledgerJobs: { name: string; everySeconds: number; nextRunAt: string; lastOutcome: string | null }[] }>(
      `{ ledgerJobs { name everySeconds nextRunAt lastStartedAt lastOutcome lastResult } }`,
    );
    expect(ledgerJobs.map((j) => j.name)).toEqual(['expire-holds', 'expire-points', 'post-pending-points', 'prune-processed-events', 'record-purchase-imports']);
    expect(ledgerJobs.every((j) => j.lastOutcome === 'OK')).toBe(true);
    expect(errorCodes(await admin.send(`{ ledgerJobs { name } }`))).toEqual(['FORBIDDEN']);
  });
});
