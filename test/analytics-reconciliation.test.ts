import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Analytics against the ledger, end to end through the gateway: real purchases, returns (from
 * pending, from posted, written off), holds captured, refunded and released, expiry and its
 * reinstatement happen in the ledger; once its events are delivered, analytics' issued, redeemed
 * and expired equal the ledger's to the point, both in the operator check and in Program.kpis.
 */
let graph: TestSupergraph;
const DAY = 86_400_000;
let keys = 0;
const key = () => `analytics-rec-${++keys}-${Date.now()}`;

let programId: string;
let admin: Caller;
let agent: Caller;

const RECONCILE = `query($p: ID!) { analyticsReconciliation(programId: $p) { programId balanced
  issued { analytics ledger difference } redeemed { analytics ledger difference } expired { analytics ledger difference }
  outstanding { analytics ledger difference } } }`;
type Figure = { analytics: string; ledger: string; difference: string };
type Reconciliation = { programId: string; balanced: boolean; issued: Figure; redeemed: Figure; expired: Figure; outstanding: Figure };
const reconcile = async (as: Caller = admin) => (await as.data<{ analyticsReconciliation: Reconciliation }>(RECONCILE, { p: programId })).analyticsReconciliation;
const ledgerTotals = async () =>
  (await admin.data<{ program: { pointsTotals: { issued: string; redeemed: string; expired: string } } }>(`query($p: ID!) { program(id: $p) { pointsTotals { issued redeemed expired } } }`, { p: programId })).program
    .pointsTotals;

async function enroll(email: string): Promise<string> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
    `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`,
    { p: programId, e: email },
  );
  return enrollMember.member.id;
}

async function buy(memberId: string, amounts: string[]): Promise<{ id: string; points: number }> {
  const { recordPurchase } = await agent.data<{ recordPurchase: { purchase: { id: string; points: number }; userErrors: unknown[] } }>(
    `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code message } } }`,
    {
      input: {
        idempotencyKey: key(),
        memberId,
        source: 'web',
        externalId: key(),
        basket: { currency: 'EUR', channel: 'ONLINE', lines: amounts.map((amount, i) => ({ lineId: `l${i}`, quantity: 1, amount, sku: `SKU-${i}`, category: 'shoes' })) },
      },
    },
  );
  expect(recordPurchase.userErrors).toEqual([]);
  return recordPurchase.purchase;
}

async function hold(memberId: string, points: number): Promise<string> {
  const { holdPoints } = await agent.data<{ holdPoints: { hold: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code message } } }`,
    { input: { idempotencyKey: key(), memberId, points, reference: 'reward' } },
  );
  expect(holdPoints.userErrors).toEqual([]);
  return holdPoints.hold!.id;
}
const holdAction = (action: 'captureHold' | 'releaseHold', holdId: string) =>
  agent.data(`mutation($input: HoldActionInput!) { ${action}(input: $input) { hold { status } userErrors { code } } }`, { input: { idempotencyKey: key(), holdId } });

async function recordReturn(purchaseId: string, lines?: { lineId: string; quantity: number }[]) {
  const { recordReturn } = await agent.data<{ recordReturn: { return: { points: number } | null; userErrors: unknown[] } }>(
    `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { return { points } userErrors { code message } } }`,
    { input: { idempotencyKey: key(), purchaseId, ...(lines ? { lines } : {}) } },
  );
  expect(recordReturn.userErrors).toEqual([]);
}

beforeAll(async () => {
  graph = await startSupergraph();
  ({ programId, admin, agent } = await createTestProgram(graph, { name: 'Analytics reconciliation' }));
  const configured = await admin.data<{ configureLedger: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { userErrors { code field message } } }`,
    { input: { programId, returnWindowDays: 14, clawbackPolicy: 'WRITE_OFF', expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 12 } },
  );
  expect(configured.configureLedger.userErrors).toEqual([]);
});
afterAll(() => graph?.stop());

describe('analyticsReconciliation', () => {
  it('equals the ledger’s issued, redeemed and expired to the point once the events are delivered', async () => {
    const ann = await enroll('ann.analytics@example.com');
    const bob = await enroll('bob.analytics@example.com');

    // Ann: 150 pending, 50 of it returned while pending; then posted by the job.
    const annPurchase = await buy(ann, ['100.00', '50.00']);
    await recordReturn(annPurchase.id, [{ lineId: 'l1', quantity: 1 }]);
    graph.clock.advance(15 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    // Ann spends 60, 20 of it refunded; a hold of 10 released (a reservation is not a redemption).
    const spent = await hold(ann, 60);
    await holdAction('captureHold', spent);
    const refund = await agent.data<{ refundCapturedPoints: { userErrors: unknown[] } }>(
      `mutation($input: RefundCapturedPointsInput!) { refundCapturedPoints(input: $input) { userErrors { code message } } }`,
      { input: { idempotencyKey: key(), holdId: spent, points: 20, reason: 'order cancelled' } },
    );
    expect(refund.refundCapturedPoints.userErrors).toEqual([]);
    await holdAction('releaseHold', await hold(ann, 10));
    // Bob: 100 posted after the window, 80 spent, then the purchase returned: 20 taken back, 80 written off.
    const bobPurchase = await buy(bob, ['100.00']);
    graph.clock.advance(15 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    await holdAction('captureHold', await hold(bob, 80));
    await recordReturn(bobPurchase.id);
    // A year on, Ann's 60 remaining points expire; an agent reinstates the expiry.
    graph.clock.advance(400 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    const { member } = await agent.data<{ member: { statement: { nodes: { id: string; memberAmount: number }[] } } }>(
      `query($id: ID!) { member(id: $id) { statement(first: 1, filter: { kinds: [EXPIRY] }) { nodes { id memberAmount } } } }`,
      { id: ann },
    );
    expect(member.statement.nodes[0]!.memberAmount).toBe(-60);
    const reinstated = await agent.data<{ reinstateExpiredPoints: { userErrors: unknown[] } }>(
      `mutation($input: ReinstateExpiredPointsInput!) { reinstateExpiredPoints(input: $input) { userErrors { code } } }`,
      { input: { idempotencyKey: key(), expiryEntryId: member.statement.nodes[0]!.id, comment: 'abroad' } },
    );
    expect(reinstated.reinstateExpiredPoints.userErrors).toEqual([]);
    // And once more, so the expiry is not simply undone: Ann's points expire again next year.
    graph.clock.advance(400 * DAY);
    await graph.subgraphs['ledger']!.runJobs();

    await graph.deliverEvents();
    const ledger = await ledgerTotals();
    // What happened, by hand: issued 150 − 50 + 100 − 100; redeemed 60 − 20 + 80; expired 60 − 60 + 60.
    expect(ledger).toEqual({ issued: '100', redeemed: '120', expired: '60' });
    const operator = await graph.asOperator();
    for (const as of [admin, operator]) {
      expect(await reconcile(as)).toEqual({
        programId,
        balanced: true,
        issued: { analytics: ledger.issued, ledger: ledger.issued, difference: '0' },
        redeemed: { analytics: ledger.redeemed, ledger: ledger.redeemed, difference: '0' },
        expired: { analytics: ledger.expired, ledger: ledger.expired, difference: '0' },
        // Everyone's points are spent, taken back or expired by now (the next test holds some).
        outstanding: { analytics: '0', ledger: '0', difference: '0' },
      });
    }

    // The KPIs' buckets sum to the same totals (a YEAR bucket per year since the first event).
    const analyst = await graph.asStaff(programId, ['ANALYST']);
    const { program } = await analyst.data<{ program: { kpis: { pointsIssued: string; pointsRedeemed: string; pointsExpired: string; enrolled: number; purchases: number }[] } }>(
      `query($p: ID!, $from: DateTime!, $to: DateTime!) { program(id: $p) { kpis(period: YEAR, from: $from, to: $to) { pointsIssued pointsRedeemed pointsExpired enrolled purchases } } }`,
      { p: programId, from: '2000-01-01T00:00:00Z', to: new Date(graph.clock.now().getTime() + DAY).toISOString() },
    );
    const sum = (k: 'pointsIssued' | 'pointsRedeemed' | 'pointsExpired') => String(program.kpis.reduce((total, b) => total + BigInt(b[k]), 0n));
    expect({ issued: sum('pointsIssued'), redeemed: sum('pointsRedeemed'), expired: sum('pointsExpired') }).toEqual(ledger);
    expect(program.kpis.reduce((n, b) => n + b.enrolled, 0)).toBe(2);
    expect(program.kpis.reduce((n, b) => n + b.purchases, 0)).toBe(2);
  });

  it('shows the points the ledger has and analytics has not yet seen, until they are delivered', async () => {
    const before = await reconcile();
    const carol = await enroll('carol.analytics@example.com');
    const purchase = await buy(carol, ['42.00']);
    const behind = await reconcile();
    expect(behind.balanced).toBe(false);
    expect(BigInt(behind.issued.difference)).toBe(BigInt(purchase.points));
    expect(behind.issued.analytics).toBe(before.issued.analytics);
    await graph.deliverEvents();
    expect((await reconcile()).balanced).toBe(true);
  });

  it('equals the ledger’s outstanding points and liability to the point, posted and pending, held points included, and as of an earlier instant', async () => {
    const dan = await enroll('dan.analytics@example.com');
    const eve = await enroll('eve.analytics@example.com');
    // Dan's purchase posts after the window; then 25 of his points are held (still his), and Eve buys (pending).
    const dans = await buy(dan, ['70.00', '3.99']);
    graph.clock.advance(15 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    const openHold = await hold(dan, 25);
    expect(openHold).toBeTruthy();
    const beforeEve = graph.clock.now();
    graph.clock.advance(60_000);
    const eves = await buy(eve, ['41.50']);
    await graph.deliverEvents();

    const rec = await reconcile(await graph.asOperator());
    expect(rec.balanced).toBe(true);
    expect(rec.outstanding.difference).toBe('0');
    const { program } = await admin.data<{
      program: {
        pointValue: { amount: string; currency: string };
        pointsTotals: { outstanding: string; outstandingLiability: { amount: string; currency: string } };
        now: { outstandingPoints: string; postedPoints: string; pendingPoints: string; outstanding: { amount: string; currency: string } };
        before: { outstandingPoints: string; pendingPoints: string };
      };
    }>(
      `query($p: ID!, $before: DateTime!) { program(id: $p) { pointValue { amount currency } pointsTotals { outstanding outstandingLiability { amount currency } }
         now: liability { outstandingPoints postedPoints pendingPoints outstanding { amount currency } }
         before: liability(asOf: $before) { outstandingPoints pendingPoints } } }`,
      { p: programId, before: beforeEve.toISOString() },
    );
    // Carol's purchase (the test before) posted with Dan's; Eve's is pending.
    const held = BigInt(program.pointsTotals.outstanding);
    expect(held).toBeGreaterThan(BigInt(dans.points));
    expect(rec.outstanding).toEqual({ analytics: program.pointsTotals.outstanding, ledger: program.pointsTotals.outstanding, difference: '0' });
    expect(program.now).toEqual({
      outstandingPoints: program.pointsTotals.outstanding,
      postedPoints: String(held - BigInt(eves.points)),
      pendingPoints: String(eves.points),
      outstanding: program.pointsTotals.outstandingLiability,
    });
    expect(Number(program.now.outstanding.amount)).toBeGreaterThan(0);
    expect(program.before).toEqual({ outstandingPoints: String(held - BigInt(eves.points)), pendingPoints: '0' });
  });

  it('refuses analysts, agents and other programs’ admins (FORBIDDEN)', async () => {
    const other = await createTestProgram(graph, { name: 'Analytics other' });
    for (const as of [await graph.asStaff(programId, ['ANALYST']), agent, other.admin]) {
      const res = await as.send(RECONCILE, { p: programId });
      expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['FORBIDDEN']);
    }
  });
});
