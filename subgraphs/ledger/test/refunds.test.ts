import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { checkInvariants } from '../src/audit';

/**
 * What the catalog's reward-order saga calls, called the way it does: directly on the ledger, as a
 * signed SERVICE viewer. Refunds of captured holds (whole, in parts, racing, into lots that expired
 * meanwhile, after a clawback), a hold's status by reference, and donations on a member's behalf.
 * Every scenario runs against real PostgreSQL and the audit must stay clean after all of them.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let service: Caller;
const programId = randomUUID();
const DAY = 86_400_000;
let keys = 0;
const key = () => `refund-${++keys}-${randomUUID()}`;

const ADMIN: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN', 'AGENT'], subject: 'admin-1' };

const HOLD = `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code message } } }`;
const CAPTURE = `mutation($input: HoldActionInput!) { captureHold(input: $input) { hold { status } userErrors { code message } } }`;
const RELEASE = `mutation($input: HoldActionInput!) { releaseHold(input: $input) { hold { status } userErrors { code message } } }`;
const REFUND = `mutation($input: RefundCapturedPointsInput!) {
  refundCapturedPoints(input: $input) {
    hold { id status points refundedPoints }
    entry { id kind memberAmount description correctsEntryId lines { bucket amount account { kind } } }
    userErrors { code field message }
  }
}`;
const POINTS = `query($representations: [_Any!]!) { _entities(representations: $representations) {
  ... on Member { points { available posted held nextExpiries { points expiresAt } } } } }`;
const HOLD_ENTITY = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on PointsHold { id status points refundedPoints } } }`;

type Points = { available: number; posted: number; held: number; nextExpiries: { points: number; expiresAt: string }[] };
type Refund = {
  hold: { id: string; status: string; points: number; refundedPoints: number } | null;
  entry: { id: string; kind: string; memberAmount: number; description: string; correctsEntryId: string | null; lines: { bucket: string; amount: number; account: { kind: string } }[] } | null;
  userErrors: { code: string; field: string | null; message: string }[];
};

/** A member the ledger knows (members' events, here written by hand), credited `points` now. */
async function member(points: number, program = programId): Promise<string> {
  const id = randomUUID();
  await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at) VALUES ($1, $2, 'ACTIVE', NULL, 1, $3)`, [id, program, sub.clock.now()]);
  if (points > 0) await credit(id, points);
  return id;
}

async function credit(memberId: string, points: number): Promise<void> {
  const { adjustPoints } = await admin.data<{ adjustPoints: { userErrors: unknown[] } }>(`mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { code } } }`, {
    input: { idempotencyKey: key(), memberId, points, reasonCode: 'GOODWILL', comment: 'Credit for the test' },
  });
  expect(adjustPoints.userErrors).toEqual([]);
}

async function pointsOf(memberId: string): Promise<Points> {
  const { _entities } = await service.data<{ _entities: { points: Points }[] }>(POINTS, { representations: [{ __typename: 'Member', id: memberId }] });
  return _entities[0]!.points;
}

/** A reward order paid: hold then capture, as the saga does. */
async function spend(memberId: string, points: number): Promise<string> {
  const { holdPoints } = await service.data<{ holdPoints: { hold: { id: string } | null; userErrors: unknown[] } }>(HOLD, { input: { idempotencyKey: key(), memberId, points, reference: `order-${keys}` } });
  expect(holdPoints.userErrors).toEqual([]);
  const { captureHold } = await service.data<{ captureHold: { hold: { status: string } } }>(CAPTURE, { input: { idempotencyKey: key(), holdId: holdPoints.hold!.id } });
  expect(captureHold.hold.status).toBe('CAPTURED');
  return holdPoints.hold!.id;
}

async function refund(holdId: string, points: number, idempotencyKey = key(), caller = service): Promise<Refund> {
  const { refundCapturedPoints } = await caller.data<{ refundCapturedPoints: Refund }>(REFUND, { input: { idempotencyKey, holdId, points, reason: 'Order cancelled' } });
  return refundCapturedPoints;
}

const codes = (r: Refund) => r.userErrors.map((e) => e.code);

beforeAll(async () => {
  sub = await startTestSubgraph(ledgerSubgraph as unknown as SubgraphModule<ViewerContext>);
  admin = await sub.as(ADMIN);
  service = await sub.as(serviceViewer('catalog'));
  const { configureLedger } = await admin.data<{ configureLedger: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { userErrors { code message } } }`,
    { input: { programId, returnWindowDays: 0, expiryPolicy: 'ROLLING_MONTHS', expiryMonths: 12, monthlyDonationLimit: 100 } },
  );
  expect(configureLedger.userErrors).toEqual([]);
  const { publishEarningRules } = await admin.data<{ publishEarningRules: { userErrors: unknown[] } }>(
    `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code } } }`,
    { input: { programId, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' } },
  );
  expect(publishEarningRules.userErrors).toEqual([]);
});
afterAll(() => sub?.stop());

describe('refundCapturedPoints', () => {
  it('gives a whole capture back: the member’s points, lots and the hold as before, one REFUND entry reversing the capture', async () => {
    const m = await member(100);
    const before = await pointsOf(m);
    const holdId = await spend(m, 60);
    expect(await pointsOf(m)).toMatchObject({ available: 40, posted: 40, held: 0 });

    const result = await refund(holdId, 60);
    expect(result.userErrors).toEqual([]);
    expect(result.hold).toEqual({ id: holdId, status: 'CAPTURED', points: 60, refundedPoints: 60 });
    const [capture] = (await sub.db.query(`SELECT id FROM journal_entries WHERE hold_id = $1 AND kind = 'CAPTURE'`, [holdId])) as { id: string }[];
    expect(result.entry).toMatchObject({ kind: 'REFUND', memberAmount: 60, description: expect.stringMatching(/^Refund for order-\d+: Order cancelled$/) as string, correctsEntryId: capture!.id });
    expect(result.entry!.lines.sort((a, b) => a.amount - b.amount)).toEqual([
      { bucket: 'POSTED', amount: -60, account: { kind: 'REDEMPTION' } },
      { bucket: 'POSTED', amount: 60, account: { kind: 'MEMBER_REWARD' } },
    ]);
    expect(await pointsOf(m)).toEqual(before);

    // Announced with its entry, through the outbox like every movement.
    const events = (await sub.db.query(`SELECT event_type AS type, payload FROM outbox WHERE entry_id = $1`, [result.entry!.id])) as { type: string; payload: Record<string, unknown> }[];
    expect(events).toEqual([{ type: 'PointsRefunded', payload: { programId, memberId: m, holdId, points: 60, reason: 'Order cancelled', entryId: result.entry!.id } }]);

    const more = await refund(holdId, 1);
    expect(more.userErrors).toEqual([{ code: 'REFUND_EXCEEDS_CAPTURE', field: 'points', message: expect.stringContaining('0 of the hold') as string }]);
  });

  it('gives a capture back in two parts, latest-expiring slices first, never the same slice twice', async () => {
    const m = await member(50); // lot A: expires first
    sub.clock.advance(30 * DAY);
    await credit(m, 50); // lot B: expires 30 days later
    const holdId = await spend(m, 80); // 50 from A, 30 from B
    const expiries = async () => (await pointsOf(m)).nextExpiries.map((e) => e.points);
    expect(await expiries()).toEqual([20]);

    const first = await refund(holdId, 20);
    expect(first.hold).toMatchObject({ refundedPoints: 20 });
    expect(await expiries()).toEqual([40]); // B's slice first: A still empty

    const second = await refund(holdId, 40);
    expect(second.hold).toMatchObject({ refundedPoints: 60 });
    expect(await expiries()).toEqual([30, 50]); // B's last 10, then 30 of A's 50

    const slices = (await sub.db.query(`SELECT points, refunded FROM hold_lots WHERE hold_id = $1 ORDER BY points`, [holdId])) as { points: number; refunded: number }[];
    expect(slices).toEqual([{ points: 30, refunded: 30 }, { points: 50, refunded: 30 }]);

    const over = await refund(holdId, 21);
    expect(codes(over)).toEqual(['REFUND_EXCEEDS_CAPTURE']);
    expect(await pointsOf(m)).toMatchObject({ available: 80 });
    const last = await refund(holdId, 20);
    expect(last.hold).toMatchObject({ refundedPoints: 80 });
    expect(await pointsOf(m)).toMatchObject({ available: 100, nextExpiries: [{ points: 50 }, { points: 50 }] });
  });

  it('refuses holds that were not captured: open, released or expired', async () => {
    const m = await member(100);
    const { holdPoints } = await service.data<{ holdPoints: { hold: { id: string } } }>(HOLD, { input: { idempotencyKey: key(), memberId: m, points: 30, reference: 'open' } });
    expect(codes(await refund(holdPoints.hold.id, 10))).toEqual(['HOLD_NOT_CAPTURED']);
    await service.data(RELEASE, { input: { idempotencyKey: key(), holdId: holdPoints.hold.id } });
    const released = await refund(holdPoints.hold.id, 10);
    expect(released.userErrors).toEqual([{ code: 'HOLD_NOT_CAPTURED', field: 'holdId', message: expect.stringContaining('RELEASED') as string }]);
    expect(codes(await refund(randomUUID(), 10))).toEqual(['HOLD_NOT_FOUND']);
    expect(await pointsOf(m)).toMatchObject({ available: 100 });
  });

  it('refuses malformed input as BAD_USER_INPUT naming the field', async () => {
    const m = await member(100);
    const holdId = await spend(m, 10);
    const send = (input: Record<string, unknown>) => service.send(REFUND, { input: { idempotencyKey: key(), holdId, points: 5, reason: 'Order cancelled', ...input } });
    for (const [input, field] of [
      [{ points: 0 }, 'points'],
      [{ points: 100_000_001 }, 'points'],
      [{ reason: '  ' }, 'reason'],
      [{ reason: 'x'.repeat(129) }, 'reason'],
      [{ idempotencyKey: 'short' }, 'idempotencyKey'],
    ] as const) {
      const response = await send(input);
      expect(response.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('lets 20 concurrent refunds of 10 points with distinct keys give back exactly the 100 captured', async () => {
    const m = await member(150);
    const holdId = await spend(m, 100);
    const results = await Promise.all(Array.from({ length: 20 }, () => refund(holdId, 10)));
    expect(results.filter((r) => r.userErrors.length === 0)).toHaveLength(10);
    expect(results.filter((r) => r.userErrors.length > 0).flatMap(codes)).toEqual(Array.from({ length: 10 }, () => 'REFUND_EXCEEDS_CAPTURE'));
    expect(new Set(results.filter((r) => r.entry).map((r) => r.entry!.id)).size).toBe(10);
    expect(await pointsOf(m)).toMatchObject({ available: 150, posted: 150, held: 0, nextExpiries: [{ points: 150 }] });
    const { _entities } = await service.data<{ _entities: { refundedPoints: number }[] }>(HOLD_ENTITY, { representations: [{ __typename: 'PointsHold', id: holdId }] });
    expect(_entities[0]!.refundedPoints).toBe(100);
  });

  it('gives one effect for one key, however often and however concurrently it is sent; another input under it is a CONFLICT', async () => {
    const m = await member(100);
    const holdId = await spend(m, 50);
    const same = key();
    const results = await Promise.all(Array.from({ length: 5 }, () => refund(holdId, 10, same)));
    expect(new Set(results.map((r) => r.entry?.id)).size).toBe(1);
    expect(results.every((r) => r.userErrors.length === 0)).toBe(true);
    expect((await refund(holdId, 10, same)).entry!.id).toBe(results[0]!.entry!.id);
    expect(await pointsOf(m)).toMatchObject({ available: 60 });
    const conflict = await service.send(REFUND, { input: { idempotencyKey: same, holdId, points: 20, reason: 'Order cancelled' } });
    expect(conflict.errors?.[0]?.extensions?.['code']).toBe('CONFLICT');
    const entries = (await sub.db.query(`SELECT count(*)::int AS n FROM journal_entries WHERE hold_id = $1 AND kind = 'REFUND'`, [holdId])) as { n: number }[];
    expect(entries[0]!.n).toBe(1);
  });

  it('expires at once the points that come back into a lot whose date passed meanwhile: ordering and cancelling never extends an expiry', async () => {
    const m = await member(100); // lot A: expires in 12 months
    sub.clock.advance(200 * DAY);
    await credit(m, 50); // lot B: 200 days later
    const holdId = await spend(m, 120); // 100 from A, 20 from B
    sub.clock.advance(200 * DAY); // A is past its date (and empty), B is not
    await sub.runJobs();
    expect(await pointsOf(m)).toMatchObject({ available: 30 });

    const result = await refund(holdId, 120);
    expect(result.userErrors).toEqual([]);
    // B's 20 come back spendable; A's 100 come back and expire in the same transaction.
    expect(await pointsOf(m)).toMatchObject({ available: 50, posted: 50, nextExpiries: [{ points: 50 }] });
    const [expiry] = (await sub.db.query(`SELECT member_amount::int AS amount, created_at AS "createdAt" FROM journal_entries WHERE member_id = $1 AND kind = 'EXPIRY'`, [m])) as { amount: number; createdAt: Date }[];
    expect(expiry).toEqual({ amount: -100, createdAt: sub.clock.now() });
    const expired = (await sub.db.query(`SELECT payload FROM outbox WHERE event_type = 'PointsExpired' AND payload->>'memberId' = $1`, [m])) as { payload: { points: number } }[];
    expect(expired.map((e) => e.payload.points)).toEqual([100]);

    // Nothing is left for the job: the balance stays what the unexpired lots hold.
    await sub.runJobs();
    expect(await pointsOf(m)).toMatchObject({ available: 50 });
  });

  it('expires refunded points at once even when the expiry job has not run since the lot’s date', async () => {
    const m = await member(40);
    const holdId = await spend(m, 40);
    sub.clock.advance(366 * DAY); // the lot is past its date; the job has not run since
    const result = await refund(holdId, 15);
    expect(result.userErrors).toEqual([]);
    expect(await pointsOf(m)).toMatchObject({ available: 0, nextExpiries: [] });
    await sub.runJobs();
    expect(await pointsOf(m)).toMatchObject({ available: 0, posted: 0 });
  });

  it('repays a negative balance left by a clawback first, as a release does', async () => {
    const m = await member(0);
    const { recordPurchase } = await admin.data<{ recordPurchase: { purchase: { id: string } } }>(
      `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code message } } }`,
      { input: { idempotencyKey: key(), memberId: m, source: 'till', externalId: `refund-${keys}`, basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'A', category: 'food', quantity: 1, amount: '100.00' }] } } },
    );
    const holdId = await spend(m, 80);
    await admin.data(`mutation($input: RecordReturnInput!) { recordReturn(input: $input) { userErrors { code } } }`, { input: { idempotencyKey: key(), purchaseId: recordPurchase.purchase.id } });
    expect(await pointsOf(m)).toMatchObject({ available: -80 });

    await refund(holdId, 50);
    expect(await pointsOf(m)).toMatchObject({ available: -30, nextExpiries: [] });
    await refund(holdId, 30);
    expect(await pointsOf(m)).toMatchObject({ available: 0, nextExpiries: [] });
  });

  it('is refused to another program’s staff and to members (FORBIDDEN), and changes nothing', async () => {
    const m = await member(100);
    const holdId = await spend(m, 40);
    const elsewhere = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId: randomUUID(), roles: ['ADMIN', 'AGENT'], subject: 'admin-elsewhere' });
    const owner = await sub.as({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId: m, subject: 'idp|owner' });
    for (const caller of [elsewhere, owner]) {
      const response = await caller.send(REFUND, { input: { idempotencyKey: key(), holdId, points: 10, reason: 'Mine' } });
      expect(response.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
    // The program's own agents may (a cancellation handled by support).
    expect((await refund(holdId, 10, key(), admin)).userErrors).toEqual([]);
    expect(await pointsOf(m)).toMatchObject({ available: 70 });
  });
});

describe('a hold read by reference', () => {
  it('tells a service its status and what was captured and refunded', async () => {
    const m = await member(100);
    const captured = await spend(m, 30);
    await refund(captured, 12);
    const { holdPoints } = await service.data<{ holdPoints: { hold: { id: string } } }>(HOLD, { input: { idempotencyKey: key(), memberId: m, points: 5, reference: 'open' } });
    const { _entities } = await service.data<{ _entities: unknown[] }>(HOLD_ENTITY, {
      representations: [captured, holdPoints.hold.id, randomUUID()].map((id) => ({ __typename: 'PointsHold', id })),
    });
    expect(_entities).toEqual([
      { id: captured, status: 'CAPTURED', points: 30, refundedPoints: 12 },
      { id: holdPoints.hold.id, status: 'OPEN', points: 5, refundedPoints: 0 },
      null,
    ]);
  });
});

describe('donatePoints by a service', () => {
  const DONATE = `mutation($input: DonatePointsInput!) { donatePoints(input: $input) { entry { id kind memberAmount createdBy } userErrors { code field } } }`;
  type Donation = { donatePoints: { entry: { id: string; kind: string; memberAmount: number; createdBy: string } | null; userErrors: { code: string; field: string }[] } };
  let charityId: string;

  beforeAll(async () => {
    const { createCharity } = await admin.data<{ createCharity: { charity: { id: string } } }>(`mutation($input: CreateCharityInput!) { createCharity(input: $input) { charity { id } } }`, {
      input: { programId, name: 'Refund test shelter' },
    });
    charityId = createCharity.charity.id;
  });

  it('gives a member’s points on their behalf, once per key, within the program’s monthly donation limit', async () => {
    const m = await member(200);
    const once = key();
    const [first, again] = await Promise.all([
      service.data<Donation>(DONATE, { input: { idempotencyKey: once, memberId: m, charityId, points: 60 } }),
      service.data<Donation>(DONATE, { input: { idempotencyKey: once, memberId: m, charityId, points: 60 } }),
    ]);
    expect(first.donatePoints.entry).toMatchObject({ kind: 'DONATION', memberAmount: -60, createdBy: 'catalog' });
    expect(again.donatePoints.entry!.id).toBe(first.donatePoints.entry!.id);
    expect(await pointsOf(m)).toMatchObject({ available: 140 });

    // The limit is 100 a month: 60 given, 41 more is refused, 40 is fine.
    const over = await service.data<Donation>(DONATE, { input: { idempotencyKey: key(), memberId: m, charityId, points: 41 } });
    expect(over.donatePoints.userErrors).toEqual([{ code: 'LIMIT_EXCEEDED', field: 'points' }]);
    const rest = await service.data<Donation>(DONATE, { input: { idempotencyKey: key(), memberId: m, charityId, points: 40 } });
    expect(rest.donatePoints.userErrors).toEqual([]);
    expect(await pointsOf(m)).toMatchObject({ available: 100 });
  });

  it('keeps the member’s own balance and the charity’s program: no overdraft, no other program’s charity', async () => {
    const poor = await member(10);
    const short = await service.data<Donation>(DONATE, { input: { idempotencyKey: key(), memberId: poor, charityId, points: 11 } });
    expect(short.donatePoints.userErrors.map((e) => e.code)).toEqual(['INSUFFICIENT_POINTS']);
    const stranger = await member(0, randomUUID());
    const foreign = await service.data<Donation>(DONATE, { input: { idempotencyKey: key(), memberId: stranger, charityId, points: 1 } });
    expect(foreign.donatePoints.userErrors.map((e) => e.code)).toEqual(['CHARITY_NOT_FOUND']);
  });
});

describe('the ledger audit', () => {
  it('is clean after every refund, expiry and donation above', async () => {
    expect(await checkInvariants(sub.db)).toEqual([]);
  });
});
