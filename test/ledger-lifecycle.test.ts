import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { checkInvariants } from '../subgraphs/ledger/src/audit';

/**
 * What happens to points after they are earned: returns (with both clawback policies), expiry
 * (soonest-expiring spent first, an agent reinstating), transfers and donations within limits.
 */
let graph: TestSupergraph;
const DAY = 86_400_000;
let keys = 0;
const key = () => `lifecycle-${++keys}-${Date.now()}`;

type Points = { available: number; posted: number; pending: number; held: number; statusPoints: number; nextExpiries: { points: number; expiresAt: string }[] };

interface Program {
  id: string;
  admin: Caller;
  agent: Caller;
  enroll(email: string): Promise<string>;
  points(memberId: string): Promise<Points>;
  buy(memberId: string, externalId: string, lines: { lineId: string; quantity: number; amount: string }[]): Promise<{ id: string; points: number }>;
}

async function program(name: string, settings: Record<string, unknown>): Promise<Program> {
  const { programId: id, admin, agent } = await createTestProgram(graph, { name });
  const configured = await admin.data<{ configureLedger: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { settings { returnWindowDays } userErrors { code field message } } }`,
    { input: { programId: id, ...settings } },
  );
  expect(configured.configureLedger.userErrors).toEqual([]);
  return {
    id,
    admin,
    agent,
    async enroll(email) {
      const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
        `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } } }`,
        { p: id, e: email },
      );
      return enrollMember.member.id;
    },
    async points(memberId) {
      const { member } = await agent.data<{ member: { points: Points } }>(
        `query($id: ID!) { member(id: $id) { points { available posted pending held statusPoints nextExpiries { points expiresAt } } } }`,
        { id: memberId },
      );
      return member.points;
    },
    async buy(memberId, externalId, lines) {
      const { recordPurchase } = await agent.data<{ recordPurchase: { purchase: { id: string; points: number }; userErrors: unknown[] } }>(
        `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code message } } }`,
        { input: { idempotencyKey: key(), memberId, source: 'web', externalId, basket: { currency: 'EUR', channel: 'ONLINE', lines: lines.map((l) => ({ ...l, sku: `SKU-${l.lineId}`, category: 'shoes' })) } } },
      );
      expect(recordPurchase.userErrors).toEqual([]);
      return recordPurchase.purchase;
    },
  };
}

const RETURN = `mutation($input: RecordReturnInput!) {
  recordReturn(input: $input) { return { points fromPending fromPosted writtenOff clawbackPolicy entry { kind reasonCode memberAmount } } userErrors { code field message } }
}`;
type ReturnResult = { recordReturn: { return: { points: number; fromPending: number; fromPosted: number; writtenOff: number; entry: { reasonCode: string | null } } | null; userErrors: { code: string }[] } };

async function spend(p: Program, memberId: string, points: number): Promise<void> {
  const { holdPoints } = await p.agent.data<{ holdPoints: { hold: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code message } } }`,
    { input: { idempotencyKey: key(), memberId, points, reference: 'reward' } },
  );
  expect(holdPoints.userErrors).toEqual([]);
  await p.agent.data(`mutation($input: HoldActionInput!) { captureHold(input: $input) { hold { status } } }`, { input: { idempotencyKey: key(), holdId: holdPoints.hold!.id } });
}

beforeAll(async () => {
  graph = await startSupergraph();
});
afterAll(() => graph?.stop());

describe('returns', () => {
  it('take back pending points line by line, and a later full return takes exactly the rest', async () => {
    const p = await program('Returns pending', { returnWindowDays: 30 });
    const member = await p.enroll('ret1@example.com');
    const purchase = await p.buy(member, 'O-1', [
      { lineId: 'a', quantity: 3, amount: '100.00' },
      { lineId: 'b', quantity: 1, amount: '50.00' },
    ]);
    expect(purchase.points).toBe(150);

    const partial = await p.agent.data<ReturnResult>(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id, lines: [{ lineId: 'a', quantity: 1 }] } });
    expect(partial.recordReturn.return).toMatchObject({ points: 33, fromPending: 33, fromPosted: 0 });
    expect(await p.points(member)).toMatchObject({ pending: 117 });

    const rest = await p.agent.data<ReturnResult>(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id } });
    expect(rest.recordReturn.return).toMatchObject({ points: 117, fromPending: 117 });
    expect(await p.points(member)).toMatchObject({ pending: 0, posted: 0, statusPoints: 0 });

    const again = await p.agent.data<ReturnResult>(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id } });
    expect(again.recordReturn.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_RETURN']);

    // The posting job has nothing left to post for this purchase.
    graph.clock.advance(31 * DAY);
    await graph.subgraphs['ledger']!.runJobs();
    expect(await p.points(member)).toMatchObject({ pending: 0, posted: 0 });
  });

  it('claw back spent points into a negative balance under NEGATIVE_BALANCE, repaid by the next purchase', async () => {
    const p = await program('Returns negative', { returnWindowDays: 0, clawbackPolicy: 'NEGATIVE_BALANCE' });
    const member = await p.enroll('ret2@example.com');
    const purchase = await p.buy(member, 'O-2', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    await spend(p, member, 80);
    const result = await p.agent.data<ReturnResult>(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id } });
    expect(result.recordReturn.return).toMatchObject({ points: 100, fromPosted: 100, writtenOff: 0, entry: { reasonCode: 'CLAWBACK_NEGATIVE_BALANCE' } });
    expect(await p.points(member)).toMatchObject({ available: -80, posted: -80 });

    await p.buy(member, 'O-3', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    expect(await p.points(member)).toMatchObject({ available: 20 });
    // Only the 20 points above zero are spendable: a hold of 21 is refused.
    const tooMuch = await p.agent.data<{ holdPoints: { userErrors: { code: string }[] } }>(
      `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { userErrors { code } } }`,
      { input: { idempotencyKey: key(), memberId: member, points: 21, reference: 'x' } },
    );
    expect(tooMuch.holdPoints.userErrors.map((e) => e.code)).toEqual(['INSUFFICIENT_POINTS']);
  });

  it('write spent points off under WRITE_OFF: the member keeps a zero balance, the program books the loss', async () => {
    const p = await program('Returns write-off', { returnWindowDays: 0, clawbackPolicy: 'WRITE_OFF' });
    const member = await p.enroll('ret3@example.com');
    const purchase = await p.buy(member, 'O-4', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    await spend(p, member, 80);
    const result = await p.agent.data<ReturnResult>(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id } });
    expect(result.recordReturn.return).toMatchObject({ points: 100, fromPosted: 20, writtenOff: 80, entry: { reasonCode: 'CLAWBACK_WRITE_OFF' } });
    expect(await p.points(member)).toMatchObject({ available: 0, posted: 0 });
    const { program: totals } = await p.admin.data<{ program: { pointsTotals: { issued: string; outstanding: string } } }>(`query($p: ID!) { program(id: $p) { pointsTotals { issued outstanding } } }`, { p: p.id });
    expect(totals.pointsTotals).toEqual({ issued: '0', outstanding: '0' });
  });
});

describe('expiry', () => {
  it('spends the soonest-expiring points first, shows what expires when, expires the rest and lets an agent reinstate it once', async () => {
    const p = await program('Expiry', { returnWindowDays: 0, expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 12 });
    const member = await p.enroll('exp1@example.com');
    await p.buy(member, 'E-1', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    graph.clock.advance(60 * DAY);
    await p.buy(member, 'E-2', [{ lineId: 'a', quantity: 1, amount: '50.00' }]);
    const before = await p.points(member);
    expect(before.nextExpiries.map((e) => e.points)).toEqual([100, 50]);

    await spend(p, member, 30); // taken from the first (older) batch
    expect((await p.points(member)).nextExpiries.map((e) => e.points)).toEqual([70, 50]);

    graph.clock.advance(306 * DAY); // past the first batch's date, before the second's
    await graph.subgraphs['ledger']!.runJobs();
    const after = await p.points(member);
    expect(after).toMatchObject({ available: 50 });
    expect(after.nextExpiries.map((e) => e.points)).toEqual([50]);

    const { member: withStatement } = await p.agent.data<{ member: { statement: { nodes: { id: string; kind: string; memberAmount: number }[] } } }>(
      `query($id: ID!) { member(id: $id) { statement(first: 1, filter: { kinds: [EXPIRY] }) { nodes { id kind memberAmount } } } }`,
      { id: member },
    );
    const expiry = withStatement.statement.nodes[0]!;
    expect(expiry).toMatchObject({ kind: 'EXPIRY', memberAmount: -70 });

    const REINSTATE = `mutation($input: ReinstateExpiredPointsInput!) { reinstateExpiredPoints(input: $input) { entry { kind memberAmount correctsEntryId } userErrors { code } } }`;
    const reinstated = await p.agent.data<{ reinstateExpiredPoints: { entry: { kind: string; memberAmount: number; correctsEntryId: string } } }>(REINSTATE, {
      input: { idempotencyKey: key(), expiryEntryId: expiry.id, comment: 'Member was abroad' },
    });
    expect(reinstated.reinstateExpiredPoints.entry).toEqual({ kind: 'REINSTATEMENT', memberAmount: 70, correctsEntryId: expiry.id });
    expect(await p.points(member)).toMatchObject({ available: 120 });
    const twice = await p.agent.data<{ reinstateExpiredPoints: { userErrors: { code: string }[] } }>(REINSTATE, { input: { idempotencyKey: key(), expiryEntryId: expiry.id, comment: 'again' } });
    expect(twice.reinstateExpiredPoints.userErrors.map((e) => e.code)).toEqual(['ALREADY_REINSTATED']);
  });
});

describe('transfers and donations', () => {
  it('let a member send their own points within the monthly limit; the gift keeps its expiry date', async () => {
    const p = await program('Gifts', { returnWindowDays: 0, expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 6, monthlyTransferLimit: 100 });
    const alice = await p.enroll('alice@example.com');
    const bob = await p.enroll('bob@example.com');
    await p.buy(alice, 'G-1', [{ lineId: 'a', quantity: 1, amount: '300.00' }]);
    const aliceAsMember = await graph.asMember(p.id, alice);
    const TRANSFER = `mutation($input: TransferPointsInput!) { transferPoints(input: $input) { entry { kind memberAmount } userErrors { code } } }`;
    const sent = await aliceAsMember.data<{ transferPoints: { entry: { kind: string; memberAmount: number } } }>(TRANSFER, {
      input: { idempotencyKey: key(), fromMemberId: alice, toMemberId: bob, points: 60, message: 'Happy birthday' },
    });
    expect(sent.transferPoints.entry).toEqual({ kind: 'TRANSFER', memberAmount: -60 });
    const [a, b] = [await p.points(alice), await p.points(bob)];
    expect(a.available).toBe(240);
    expect(b.available).toBe(60);
    expect(b.nextExpiries[0]!.expiresAt).toBe(a.nextExpiries[0]!.expiresAt);

    const overLimit = await aliceAsMember.data<{ transferPoints: { userErrors: { code: string }[] } }>(TRANSFER, { input: { idempotencyKey: key(), fromMemberId: alice, toMemberId: bob, points: 41 } });
    expect(overLimit.transferPoints.userErrors.map((e) => e.code)).toEqual(['LIMIT_EXCEEDED']);

    const bobAsMember = await graph.asMember(p.id, bob);
    const stealing = await bobAsMember.send(TRANSFER, { input: { idempotencyKey: key(), fromMemberId: alice, toMemberId: bob, points: 10 } });
    expect(stealing.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    // The receiver sees the transfer on their own statement as money in.
    const { me } = await bobAsMember.data<{ me: { statement: { nodes: { kind: string; memberAmount: number; description: string }[] } } }>(`{ me { statement(first: 5) { nodes { kind memberAmount description } } } }`);
    expect(me.statement.nodes[0]).toEqual({ kind: 'TRANSFER', memberAmount: 60, description: 'Happy birthday' });
  });

  it('let a member donate to one of the program’s charities', async () => {
    const p = await program('Charity', { returnWindowDays: 0 });
    const member = await p.enroll('giver@example.com');
    await p.buy(member, 'C-1', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    const { createCharity } = await p.admin.data<{ createCharity: { charity: { id: string } } }>(`mutation($p: ID!) { createCharity(input: { programId: $p, name: "Food Bank" }) { charity { id } } }`, { p: p.id });
    const asMember = await graph.asMember(p.id, member);
    const donated = await asMember.data<{ donatePoints: { entry: { kind: string; memberAmount: number } } }>(
      `mutation($input: DonatePointsInput!) { donatePoints(input: $input) { entry { kind memberAmount } userErrors { code } } }`,
      { input: { idempotencyKey: key(), memberId: member, charityId: createCharity.charity.id, points: 25 } },
    );
    expect(donated.donatePoints.entry).toEqual({ kind: 'DONATION', memberAmount: -25 });
    const { program: withCharities } = await asMember.data<{ program: { charities: { name: string; donatedPoints: string }[] } }>(`query($p: ID!) { program(id: $p) { charities { name donatedPoints } } }`, { p: p.id });
    expect(withCharities.charities).toEqual([{ name: 'Food Bank', donatedPoints: '25' }]);
    expect(await p.points(member)).toMatchObject({ available: 75 });
  });
});

describe('coalition partners', () => {
  it('fund the points of purchases made at them, and get them back on a return', async () => {
    const p = await program('Coalition', { returnWindowDays: 0 });
    const member = await p.enroll('traveller@example.com');
    const partnerId = '7d5bcb4e-3a5e-4c1b-9a53-1f6d3d0c2a10';
    const { recordPurchase } = await p.agent.data<{ recordPurchase: { purchase: { id: string }; entry: { lines: { bucket: string; amount: number; account: { kind: string; ownerId: string | null } }[] } } }>(
      `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } entry { lines { bucket amount account { kind ownerId } } } userErrors { code } } }`,
      { input: { idempotencyKey: key(), memberId: member, source: 'hotel', externalId: 'H-1', basket: { currency: 'EUR', channel: 'PARTNER', partnerId, lines: [{ lineId: 'a', sku: 'NIGHT', category: 'hotel', quantity: 1, amount: '120.00' }] } } },
    );
    expect(recordPurchase.entry.lines).toContainEqual({ bucket: 'POSTED', amount: -120, account: { kind: 'PARTNER_FUNDING', ownerId: partnerId } });
    expect(recordPurchase.entry.lines.some((l) => l.account.kind === 'ISSUANCE')).toBe(false);

    const totals = async () =>
      (await p.admin.data<{ program: { pointsTotals: { issued: string } } }>(`query($p: ID!) { program(id: $p) { pointsTotals { issued } } }`, { p: p.id })).program.pointsTotals.issued;
    expect(await totals()).toBe('120');

    const returned = await p.agent.data<{ recordReturn: { return: { entry: { lines: { amount: number; account: { kind: string } }[] } } } }>(
      `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { return { entry { lines { amount account { kind } } } } userErrors { code } } }`,
      { input: { idempotencyKey: key(), purchaseId: recordPurchase.purchase.id } },
    );
    expect(returned.recordReturn.return.entry.lines).toContainEqual({ amount: 120, account: { kind: 'PARTNER_FUNDING' } });
    expect(await totals()).toBe('0');
  });
});

describe('edge cases found in review', () => {
  const HOLD = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code } } }`;
  const RELEASE = `mutation($input: HoldActionInput!) { releaseHold(input: $input) { hold { status } userErrors { code } } }`;
  const CAPTURE = `mutation($input: HoldActionInput!) { captureHold(input: $input) { hold { status } userErrors { code } } }`;

  it('releasing a hold after a clawback repays the negative balance first and keeps the books consistent', async () => {
    const p = await program('Clawback then release', { returnWindowDays: 0, clawbackPolicy: 'NEGATIVE_BALANCE' });
    const member = await p.enroll('release@example.com');
    const purchase = await p.buy(member, 'R-1', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    const { holdPoints } = await p.agent.data<{ holdPoints: { hold: { id: string } } }>(HOLD, { input: { idempotencyKey: key(), memberId: member, points: 60, reference: 'order' } });
    await p.agent.data(RETURN, { input: { idempotencyKey: key(), purchaseId: purchase.id } });
    expect(await p.points(member)).toMatchObject({ available: -60, held: 60 });
    await p.agent.data(RELEASE, { input: { idempotencyKey: key(), holdId: holdPoints.hold.id } });
    expect(await p.points(member)).toMatchObject({ available: 0, held: 0, nextExpiries: [] });
    expect(await checkInvariants(graph.subgraphs['ledger']!.db)).toEqual([]);
  });

  it('lets concurrent purchases share a daily cap, never exceed it', async () => {
    const p = await program('Capped', { returnWindowDays: 0 });
    await p.admin.data(`mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR, caps: [{ period: DAY, maxPoints: 1000 }] }) { ruleSet { version } } }`, { p: p.id });
    const member = await p.enroll('capped@example.com');
    await Promise.all(Array.from({ length: 8 }, (_, i) => p.buy(member, `CAP-${i}`, [{ lineId: 'a', quantity: 1, amount: '400.00' }])));
    expect(await p.points(member)).toMatchObject({ available: 1000 });
  });

  it('refuses to capture a hold past its expiry, even before the job released it', async () => {
    const p = await program('Late capture', { returnWindowDays: 0, holdTtlMinutes: 30 });
    const member = await p.enroll('late@example.com');
    await p.buy(member, 'L-1', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    const { holdPoints } = await p.agent.data<{ holdPoints: { hold: { id: string } } }>(HOLD, { input: { idempotencyKey: key(), memberId: member, points: 50, reference: 'order' } });
    graph.clock.advance(31 * 60_000);
    const late = await p.agent.data<{ captureHold: { userErrors: { code: string }[] } }>(CAPTURE, { input: { idempotencyKey: key(), holdId: holdPoints.hold.id } });
    expect(late.captureHold.userErrors.map((e) => e.code)).toEqual(['HOLD_EXPIRED']);
    expect(await p.points(member)).toMatchObject({ posted: 100 });
  });

  it('shows a transfer’s receiver only their own side of the entry', async () => {
    const p = await program('Private gifts', { returnWindowDays: 0 });
    const giver = await p.enroll('giver2@example.com');
    const receiver = await p.enroll('receiver2@example.com');
    await p.buy(giver, 'P-1', [{ lineId: 'a', quantity: 1, amount: '100.00' }]);
    await p.agent.data(`mutation($input: TransferPointsInput!) { transferPoints(input: $input) { entry { id } } }`, { input: { idempotencyKey: key(), fromMemberId: giver, toMemberId: receiver, points: 10 } });
    const asReceiver = await graph.asMember(p.id, receiver);
    const { me } = await asReceiver.data<{ me: { statement: { nodes: { createdBy: string | null; lines: { account: { ownerId: string | null } }[] }[] } } }>(
      `{ me { statement(first: 1) { nodes { createdBy lines { account { ownerId } } } } } }`,
    );
    expect(me.statement.nodes[0]!.createdBy).toBeNull();
    expect(me.statement.nodes[0]!.lines.map((l) => l.account.ownerId)).toEqual([receiver]);
  });
});
