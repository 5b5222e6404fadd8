import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Complaints through the gateway, against real PostgreSQL in every subgraph: a member complains
 * about their order, agents work the queue against a deadline that stops while they wait for the
 * member, and close it with a free replacement, points back through the ledger, or a rejection the
 * member reads; who may do what; two agents at once; the events in catalog's outbox.
 */
let graph: TestSupergraph;

const DAY = 86_400_000;
const ADDRESS = { name: 'Ola Nordmann', line1: 'Storgata 1', postalCode: '00-950', city: 'Warszawa', country: 'PL' };
const COMPLAINT_FIELDS = `id status reason description resolution resolutionNote pointsRefunded dueAt overdue openedBy
  order { id } line { id } replacementOrder { id status points shippingAddress { city country } lines { quantity pointsEach reward { id } } replacesComplaint { id } }
  history { from to changedBy note }`;

type Complaint = {
  id: string;
  status: string;
  reason: string;
  description: string;
  resolution: string | null;
  resolutionNote: string | null;
  pointsRefunded: number;
  dueAt: string;
  overdue: boolean;
  openedBy: string;
  order: { id: string };
  line: { id: string } | null;
  replacementOrder: {
    id: string;
    status: string;
    points: number;
    shippingAddress: { city: string; country: string } | null;
    lines: { quantity: number; pointsEach: number; reward: { id: string } }[];
    replacesComplaint: { id: string } | null;
  } | null;
  history: { from: string | null; to: string; changedBy: string; note: string | null }[];
};
type Payload = { complaint: Complaint | null; userErrors: { code: string; field: string | null; message: string }[] };

const mutation = (name: string, input: string) => `mutation($input: ${input}!) { ${name}(input: $input) { complaint { ${COMPLAINT_FIELDS} } userErrors { code field message } } }`;
const OPEN = mutation('openComplaint', 'OpenComplaintInput');
const START = mutation('startComplaint', 'StartComplaintInput');
const ASK = mutation('askMemberAboutComplaint', 'AskMemberAboutComplaintInput');
const REPLY = mutation('replyToComplaint', 'ReplyToComplaintInput');
const RESOLVE = mutation('resolveComplaint', 'ResolveComplaintInput');
const REJECT = mutation('rejectComplaint', 'RejectComplaintInput');
const GET = `query($id: ID!) { complaint(id: $id) { ${COMPLAINT_FIELDS} } }`;

let n = 0;
const key = (label: string) => `complaint-${label}-${++n}`;

async function send(as: Caller, document: string, input: Record<string, unknown>): Promise<Payload> {
  const data = await as.data<Record<string, Payload>>(document, { input });
  return Object.values(data)[0]!;
}

/** A program with one member holding points, a physical reward in stock, and callers. */
interface World {
  p: TierProgram;
  memberId: string;
  member: Caller;
  mug: string;
  order(quantity?: number, of?: { memberId: string; caller: Caller }): Promise<{ id: string; lineId: string }>;
  open(orderId: string, over?: Record<string, unknown>, as?: Caller): Promise<Complaint>;
  stock(rewardId: string): Promise<{ sold: number; available: number }>;
}

async function world(name: string, deadlineDays: number | null = null): Promise<World> {
  const p = await tierProgram(graph, name, {});
  const memberId = await p.enroll(`${name.replace(/\W/g, '').toLowerCase()}@example.com`);
  await graph.deliverEvents();
  await give(p, memberId, 10_000);
  const member = await graph.asMember(p.id, memberId);
  if (deadlineDays !== null) {
    const { configureComplaints } = await p.admin.data<{ configureComplaints: { settings: { deadlineDays: number }; userErrors: unknown[] } }>(
      `mutation($input: ConfigureComplaintsInput!) { configureComplaints(input: $input) { settings { deadlineDays } userErrors { code } } }`,
      { input: { programId: p.id, deadlineDays } },
    );
    expect(configureComplaints).toEqual({ settings: { deadlineDays }, userErrors: [] });
  }
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } } }>(
    `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code } } }`,
    { input: { idempotencyKey: key('reward'), programId: p.id, type: 'PHYSICAL', stock: 100, details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Kubek' }], points: 100 } } },
  );
  const mug = createReward.reward.id;
  return {
    p,
    memberId,
    member,
    mug,
    async order(quantity = 1, of = { memberId, caller: member }) {
      const { placeRewardOrder } = await of.caller.data<{ placeRewardOrder: { order: { id: string; status: string; lines: { id: string }[] } } }>(
        `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status lines { id } } userErrors { code } } }`,
        { input: { idempotencyKey: key('order'), memberId: of.memberId, lines: [{ rewardId: mug, quantity }], shippingAddress: ADDRESS } },
      );
      expect(placeRewardOrder.order.status).toBe('CONFIRMED');
      return { id: placeRewardOrder.order.id, lineId: placeRewardOrder.order.lines[0]!.id };
    },
    async open(orderId, over = {}, as = member) {
      const opened = await send(as, OPEN, { idempotencyKey: key('open'), orderId, reason: 'DAMAGED', description: 'The handle came off', ...over });
      expect(opened.userErrors).toEqual([]);
      return opened.complaint!;
    },
    async stock(rewardId) {
      const { reward } = await p.admin.data<{ reward: { stock: { sold: number; available: number } } }>(`query($id: ID!) { reward(id: $id) { stock { sold available } } }`, { id: rewardId });
      return reward.stock;
    },
  };
}

async function give(p: TierProgram, to: string, points: number): Promise<void> {
  const { adjustPoints } = await p.agent.data<{ adjustPoints: { userErrors: unknown[] } }>(
    `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`,
    { i: { idempotencyKey: key('points'), memberId: to, points, reasonCode: 'GOODWILL', comment: 'test points' } },
  );
  expect(adjustPoints.userErrors).toEqual([]);
}

/** What catalog announced about a complaint, in order. */
async function events(complaintId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  return (await graph.subgraphs['catalog']!.db.query(`SELECT event_type AS type, payload FROM outbox WHERE payload->>'complaintId' = $1 ORDER BY id`, [complaintId])) as {
    type: string;
    payload: Record<string, unknown>;
  }[];
}

async function queue(as: Caller, programId: string, args: string): Promise<{ id: string; dueAt: string; overdue: boolean }[]> {
  const { program } = await as.data<{ program: { complaints: { nodes: { id: string; dueAt: string; overdue: boolean }[] } } }>(
    `query($p: ID!) { program(id: $p) { complaints(${args}) { nodes { id dueAt overdue } } } }`,
    { p: programId },
  );
  return program.complaints.nodes;
}

let w: World;

beforeAll(async () => {
  graph = await startSupergraph({ gateway: { limits: { budgets: { staff: { capacity: 1_000_000, restoreRate: 100_000 }, member: { capacity: 100_000, restoreRate: 10_000 } } } } });
  graph.clock.set(new Date('2026-05-01T10:00:00Z'));
  w = await world('Complaints program');
});
afterAll(() => graph?.stop());

describe('opening a complaint', () => {
  it('a member complains about a line of their own order: OPEN, due in 14 days by default, announced; the same key returns the same complaint', async () => {
    const order = await w.order();
    const input = { idempotencyKey: key('open'), orderId: order.id, lineId: order.lineId, reason: 'DAMAGED', description: '  The handle came off  ' };
    const opened = await send(w.member, OPEN, input);
    expect(opened.userErrors).toEqual([]);
    const complaint = opened.complaint!;
    expect(complaint).toMatchObject({ status: 'OPEN', reason: 'DAMAGED', description: 'The handle came off', resolution: null, overdue: false, order: { id: order.id }, line: { id: order.lineId } });
    expect(new Date(complaint.dueAt).getTime()).toBe(graph.clock.now().getTime() + 14 * DAY);
    expect(complaint.history.map((h) => [h.from, h.to])).toEqual([[null, 'OPEN']]);

    const again = await send(w.member, OPEN, input);
    expect(again.complaint!.id).toBe(complaint.id);
    expect(errorCodes(await w.member.send(OPEN, { input: { ...input, description: 'Something else' } }))).toEqual(['CONFLICT']);

    // The member sees it on the order and among their own complaints.
    const { rewardOrder } = await w.member.data<{ rewardOrder: { complaints: { id: string }[] } }>(`query($id: ID!) { rewardOrder(id: $id) { complaints { id } } }`, { id: order.id });
    expect(rewardOrder.complaints.map((c) => c.id)).toEqual([complaint.id]);
    const { me } = await w.member.data<{ me: { complaints: { nodes: { id: string }[] } } }>(`{ me { complaints(first: 5) { nodes { id } } } }`);
    expect(me.complaints.nodes.map((c) => c.id)).toContain(complaint.id);

    expect(await events(complaint.id)).toEqual([
      {
        type: 'ComplaintOpened',
        payload: expect.objectContaining({ complaintId: complaint.id, orderId: order.id, memberId: w.memberId, lineId: order.lineId, reason: 'DAMAGED', programId: w.p.id }) as unknown,
      },
    ]);
  });

  it('an agent opens one for a member; an order cancelled before confirmation, a line of another order and a long description are refused', async () => {
    const order = await w.order();
    const byAgent = await w.open(order.id, { reason: 'MISSING' }, w.p.agent);
    expect(byAgent.status).toBe('OPEN');
    expect(byAgent.openedBy).toBe(byAgent.history[0]!.changedBy);
    // It is the member's complaint: they read it.
    expect((await w.member.data<{ complaint: Complaint | null }>(GET, { id: byAgent.id })).complaint!.id).toBe(byAgent.id);

    const { createReward } = await w.p.admin.data<{ createReward: { reward: { id: string } } }>(
      `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code } } }`,
      { input: { idempotencyKey: key('reward'), programId: w.p.id, type: 'PHYSICAL', details: { defaultLocale: 'pl', translations: [{ locale: 'pl', name: 'Auto' }], points: 1_000_000 } } },
    );
    const { placeRewardOrder } = await w.member.data<{ placeRewardOrder: { order: { id: string; status: string } } }>(
      `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status } userErrors { code } } }`,
      { input: { idempotencyKey: key('broke'), memberId: w.memberId, lines: [{ rewardId: createReward.reward.id, quantity: 1 }], shippingAddress: ADDRESS } },
    );
    expect(placeRewardOrder.order.status).toBe('CANCELLED');
    const unconfirmed = await send(w.member, OPEN, { idempotencyKey: key('open'), orderId: placeRewardOrder.order.id, reason: 'LATE', description: 'Never came' });
    expect(unconfirmed.userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_CONFIRMED', field: 'orderId' })]);

    const other = await w.order();
    const wrongLine = await send(w.member, OPEN, { idempotencyKey: key('open'), orderId: order.id, lineId: other.lineId, reason: 'LATE', description: 'Late' });
    expect(wrongLine.userErrors).toEqual([expect.objectContaining({ code: 'LINE_NOT_FOUND', field: 'lineId' })]);

    const long = await w.member.send(OPEN, { input: { idempotencyKey: key('open'), orderId: order.id, reason: 'OTHER', description: 'x'.repeat(2_001) } });
    expect(errorCodes(long)).toEqual(['BAD_USER_INPUT']);
    expect(long.errors![0]!.extensions!['field']).toBe('description');
  });
});

describe('who may do what', () => {
  it('a member cannot complain about another’s order nor read another’s complaint; fulfilment and other programs’ agents cannot handle complaints', async () => {
    const otherId = await w.p.enroll('other-member@example.com');
    await graph.deliverEvents();
    await give(w.p, otherId, 1_000);
    const otherCaller = await graph.asMember(w.p.id, otherId);
    const theirs = await w.order(1, { memberId: otherId, caller: otherCaller });
    const input = { idempotencyKey: key('open'), orderId: theirs.id, reason: 'MISSING', description: 'Not mine to complain about' };
    expect(errorCodes(await w.member.send(OPEN, { input }))).toEqual(['FORBIDDEN']);
    const complaint = await w.open(theirs.id, {}, otherCaller);
    expect((await w.member.data<{ complaint: Complaint | null }>(GET, { id: complaint.id })).complaint).toBeNull();
    expect(errorCodes(await w.member.send(REPLY, { input: { complaintId: complaint.id, note: 'Me too' } }))).toEqual(['FORBIDDEN']);
    // Members do not work complaints, not even their own.
    expect(errorCodes(await otherCaller.send(START, { input: { complaintId: complaint.id } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await otherCaller.send(RESOLVE, { input: { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'POINTS_REFUND', points: 10, note: 'Sorry' } }))).toEqual([
      'FORBIDDEN',
    ]);

    const fulfilment = await graph.asStaff(w.p.id, ['FULFILMENT']);
    expect(errorCodes(await fulfilment.send(OPEN, { input: { ...input, idempotencyKey: key('open') } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fulfilment.send(START, { input: { complaintId: complaint.id } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fulfilment.send(REJECT, { input: { complaintId: complaint.id, reason: 'No' } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fulfilment.send(`query($p: ID!) { program(id: $p) { complaints { nodes { id } } } }`, { p: w.p.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await fulfilment.send(`query($id: ID!) { rewardOrder(id: $id) { complaints { id } } }`, { id: theirs.id }))).toEqual(['FORBIDDEN']);

    const foreign = await graph.asStaff('00000000-0000-4000-8000-00000000ffff', ['AGENT']);
    expect(errorCodes(await foreign.send(START, { input: { complaintId: complaint.id } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await foreign.send(RESOLVE, { input: { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'REPLACEMENT', note: 'Here' } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await foreign.send(OPEN, { input: { ...input, idempotencyKey: key('open') } }))).toEqual(['FORBIDDEN']);
    expect((await foreign.data<{ complaint: Complaint | null }>(GET, { id: complaint.id })).complaint).toBeNull();
    expect(errorCodes(await foreign.send(`query($p: ID!) { program(id: $p) { complaints { nodes { id } } } }`, { p: w.p.id }))).toEqual(['FORBIDDEN']);

    // Only the program's admins set the deadline, within 1 to 365 days.
    const CONFIGURE = `mutation($input: ConfigureComplaintsInput!) { configureComplaints(input: $input) { settings { deadlineDays } } }`;
    expect(errorCodes(await w.p.agent.send(CONFIGURE, { input: { programId: w.p.id, deadlineDays: 7 } }))).toEqual(['FORBIDDEN']);
    for (const deadlineDays of [0, 366]) {
      const bad = await w.p.admin.send(CONFIGURE, { input: { programId: w.p.id, deadlineDays } });
      expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0]!.extensions!['field']).toBe('deadlineDays');
    }
  });
});

describe('the agents’ queue', () => {
  it('waiting for the member stops the deadline; the overdue view lists exactly the overdue ones, the one due first on top', async () => {
    const q = await world('Queue program', 10);
    const t0 = graph.clock.now().getTime();
    const first = await q.open((await q.order()).id);
    graph.clock.advance(60_000);
    const waiting = await q.open((await q.order()).id);
    graph.clock.advance(60_000);
    const untouched = await q.open((await q.order()).id);
    graph.clock.advance(60_000);
    const resolvedEarly = await q.open((await q.order()).id);
    expect(new Date(first.dueAt).getTime()).toBe(t0 + 10 * DAY);

    expect((await send(q.p.agent, START, { complaintId: first.id })).complaint!.status).toBe('IN_PROGRESS');
    graph.clock.advance(DAY);
    const askedAt = graph.clock.now().getTime();
    const asked = await send(q.p.agent, ASK, { complaintId: waiting.id, note: 'Can you send a photo of the mug?' });
    expect(asked.complaint).toMatchObject({ status: 'WAITING_FOR_MEMBER', overdue: false });
    await send(q.p.agent, REJECT, { complaintId: resolvedEarly.id, reason: 'Duplicate of another complaint' });
    // A reply is an answer to a question: none was asked about the first one.
    expect((await send(q.member, REPLY, { complaintId: first.id, note: 'Hello?' })).userErrors.map((e) => e.code)).toEqual(['COMPLAINT_NOT_WAITING']);

    // Ten days on: the first and the untouched one are overdue; the one waiting for the member is not.
    graph.clock.set(new Date(t0 + 10 * DAY + 3_600_000));
    const all = await queue(q.p.agent, q.p.id, 'first: 10');
    expect(all.map((c) => c.id)).toEqual([first.id, waiting.id, untouched.id, resolvedEarly.id]);
    expect((await queue(q.p.agent, q.p.id, 'overdue: true, first: 10')).map((c) => c.id)).toEqual([first.id, untouched.id]);
    expect((await queue(q.p.agent, q.p.id, 'overdue: false, first: 10')).map((c) => c.id)).toEqual([waiting.id, resolvedEarly.id]);
    expect((await queue(q.p.agent, q.p.id, 'status: WAITING_FOR_MEMBER')).map((c) => c.id)).toEqual([waiting.id]);
    // Paging keeps the order.
    const { program } = await q.p.agent.data<{ program: { complaints: { pageInfo: { endCursor: string } } } }>(
      `query($p: ID!) { program(id: $p) { complaints(first: 2) { pageInfo { endCursor } } } }`,
      { p: q.p.id },
    );
    expect((await queue(q.p.agent, q.p.id, `first: 10, after: "${program.complaints.pageInfo.endCursor}"`)).map((c) => c.id)).toEqual([untouched.id, resolvedEarly.id]);

    // The member replies: the clock runs again and the deadline moved by the time waited.
    const replied = await send(q.member, REPLY, { complaintId: waiting.id, note: 'Photo sent by e-mail' });
    expect(replied.userErrors).toEqual([]);
    const waited = t0 + 10 * DAY + 3_600_000 - askedAt;
    expect(replied.complaint!.status).toBe('IN_PROGRESS');
    expect(new Date(replied.complaint!.dueAt).getTime()).toBe(new Date(waiting.dueAt).getTime() + waited);
    expect(replied.complaint!.overdue).toBe(false);
    expect(replied.complaint!.history.map((h) => [h.from, h.to, h.note])).toEqual([
      [null, 'OPEN', null],
      ['OPEN', 'WAITING_FOR_MEMBER', 'Can you send a photo of the mug?'],
      ['WAITING_FOR_MEMBER', 'IN_PROGRESS', 'Photo sent by e-mail'],
    ]);
    expect((await queue(q.p.agent, q.p.id, 'overdue: true, first: 10')).map((c) => c.id)).toEqual([first.id, untouched.id]);
    graph.clock.set(new Date(replied.complaint!.dueAt));
    expect((await queue(q.p.agent, q.p.id, 'overdue: true, first: 10')).map((c) => c.id)).toEqual([first.id, untouched.id, waiting.id]);
  });
});

describe('resolutions', () => {
  it('REPLACEMENT: a free CONFIRMED order of the complained line to the same address; points unchanged, one more unit sold; the same key once', async () => {
    const order = await w.order(2);
    const complaint = await w.open(order.id, { lineId: order.lineId });
    const points = (await w.p.points(w.memberId)).available;
    const stock = await w.stock(w.mug);
    const input = { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'REPLACEMENT', note: 'A new mug is on its way' };
    const resolved = await send(w.p.agent, RESOLVE, input);
    expect(resolved.userErrors).toEqual([]);
    expect(resolved.complaint).toMatchObject({ status: 'RESOLVED', resolution: 'REPLACEMENT', resolutionNote: 'A new mug is on its way', pointsRefunded: 0 });
    expect(resolved.complaint!.replacementOrder).toEqual({
      id: expect.any(String) as unknown,
      status: 'CONFIRMED',
      points: 0,
      shippingAddress: { city: 'Warszawa', country: 'PL' },
      lines: [{ quantity: 2, pointsEach: 0, reward: { id: w.mug } }],
      replacesComplaint: { id: complaint.id },
    });
    expect((await w.p.points(w.memberId)).available).toBe(points);
    expect(await w.stock(w.mug)).toEqual({ sold: stock.sold + 2, available: stock.available - 2 });

    const again = await send(w.p.agent, RESOLVE, input);
    expect(again.complaint!.replacementOrder!.id).toBe(resolved.complaint!.replacementOrder!.id);
    expect(await w.stock(w.mug)).toEqual({ sold: stock.sold + 2, available: stock.available - 2 });
    expect(errorCodes(await w.p.agent.send(RESOLVE, { input: { ...input, note: 'Another note' } }))).toEqual(['CONFLICT']);
    // Closed: another resolution or a rejection is refused.
    const later = await send(w.p.agent, RESOLVE, { ...input, idempotencyKey: key('res') });
    expect(later.userErrors.map((e) => e.code)).toEqual(['COMPLAINT_CLOSED']);
    expect((await send(w.p.agent, REJECT, { complaintId: complaint.id, reason: 'Too late' })).userErrors.map((e) => e.code)).toEqual(['COMPLAINT_CLOSED']);

    expect((await events(complaint.id)).map((e) => e.type)).toEqual(['ComplaintOpened', 'ComplaintResolved']);
    expect((await events(complaint.id))[1]!.payload).toMatchObject({ resolution: 'REPLACEMENT', pointsRefunded: 0, replacementOrderId: resolved.complaint!.replacementOrder!.id });
  });

  it('POINTS_REFUND: gives points back through the ledger, never more than the order took; the same key once', async () => {
    const order = await w.order(2);
    const complaint = await w.open(order.id, { reason: 'LATE' });
    const before = (await w.p.points(w.memberId)).available;
    const tooMuch = await send(w.p.agent, RESOLVE, { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'POINTS_REFUND', points: 201, note: 'Sorry' });
    expect(tooMuch.userErrors).toEqual([expect.objectContaining({ code: 'REFUND_EXCEEDS_ORDER', field: 'points' })]);
    // The refusal leaves the complaint open for another try.
    expect((await w.p.agent.data<{ complaint: Complaint }>(GET, { id: complaint.id })).complaint.status).toBe('OPEN');
    const noPoints = await w.p.agent.send(RESOLVE, { input: { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'POINTS_REFUND', note: 'Sorry' } });
    expect(errorCodes(noPoints)).toEqual(['BAD_USER_INPUT']);
    expect(noPoints.errors![0]!.extensions!['field']).toBe('points');

    const input = { idempotencyKey: key('res'), complaintId: complaint.id, resolution: 'POINTS_REFUND', points: 150, note: 'Sorry for the delay' };
    const refunded = await send(w.p.agent, RESOLVE, input);
    expect(refunded.userErrors).toEqual([]);
    expect(refunded.complaint).toMatchObject({ status: 'RESOLVED', resolution: 'POINTS_REFUND', pointsRefunded: 150, replacementOrder: null });
    expect((await w.p.points(w.memberId)).available).toBe(before + 150);
    await send(w.p.agent, RESOLVE, input);
    expect((await w.p.points(w.memberId)).available).toBe(before + 150);
    const { rewardOrder } = await w.member.data<{ rewardOrder: { pointsRefunded: number } }>(`query($id: ID!) { rewardOrder(id: $id) { pointsRefunded } }`, { id: order.id });
    expect(rewardOrder.pointsRefunded).toBe(150);

    // A second complaint about the same order can give back only what is left (50).
    const second = await w.open(order.id, { reason: 'OTHER', description: 'Still unhappy' });
    const over = await send(w.p.agent, RESOLVE, { idempotencyKey: key('res'), complaintId: second.id, resolution: 'POINTS_REFUND', points: 51, note: 'More' });
    expect(over.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_ORDER']);
    expect((await w.p.points(w.memberId)).available).toBe(before + 150);
    expect((await events(complaint.id))[1]).toMatchObject({ type: 'ComplaintResolved', payload: { resolution: 'POINTS_REFUND', pointsRefunded: 150, replacementOrderId: null } });
  });

  it('REJECTION: the member reads the reason and the whole history; nothing else can happen to it', async () => {
    const order = await w.order();
    const complaint = await w.open(order.id, { reason: 'WRONG_ITEM', description: 'I got a blue one' });
    await send(w.p.agent, START, { complaintId: complaint.id });
    await send(w.p.agent, ASK, { complaintId: complaint.id, note: 'Which colour did you order?' });
    await send(w.member, REPLY, { complaintId: complaint.id, note: 'Red' });
    const rejected = await send(w.p.agent, REJECT, { complaintId: complaint.id, reason: 'The mug comes in blue only' });
    expect(rejected.userErrors).toEqual([]);

    const { complaint: seen } = await w.member.data<{ complaint: Complaint }>(GET, { id: complaint.id });
    expect(seen).toMatchObject({ status: 'REJECTED', resolution: 'REJECTION', resolutionNote: 'The mug comes in blue only', overdue: false });
    expect(seen.history.map((h) => [h.from, h.to, h.note])).toEqual([
      [null, 'OPEN', null],
      ['OPEN', 'IN_PROGRESS', null],
      ['IN_PROGRESS', 'WAITING_FOR_MEMBER', 'Which colour did you order?'],
      ['WAITING_FOR_MEMBER', 'IN_PROGRESS', 'Red'],
      ['IN_PROGRESS', 'REJECTED', 'The mug comes in blue only'],
    ]);
    // Rejecting again with the same reason changes nothing; anything else is refused.
    expect((await send(w.p.agent, REJECT, { complaintId: complaint.id, reason: 'The mug comes in blue only' })).userErrors).toEqual([]);
    expect((await send(w.member, REPLY, { complaintId: complaint.id, note: 'But…' })).userErrors.map((e) => e.code)).toEqual(['COMPLAINT_CLOSED']);
    expect((await send(w.p.agent, START, { complaintId: complaint.id })).userErrors.map((e) => e.code)).toEqual(['COMPLAINT_CLOSED']);
    const events_ = await events(complaint.id);
    expect(events_.map((e) => e.type)).toEqual(['ComplaintOpened', 'ComplaintResolved']);
    expect(events_[1]!.payload).toMatchObject({ resolution: 'REJECTION', pointsRefunded: 0, replacementOrderId: null });
    // The history is append-only in the database itself.
    await expect(graph.subgraphs['catalog']!.db.query(`UPDATE complaint_changes SET note = 'edited' WHERE complaint_id = $1`, [complaint.id])).rejects.toThrow(/append-only/);
  });
});

describe('races', () => {
  it('two agents resolving at once (a replacement and a refund): one wins, the other is told COMPLAINT_CLOSED, one effect', async () => {
    const second = await graph.asStaff(w.p.id, ['AGENT']);
    for (let round = 0; round < 4; round++) {
      const order = await w.order();
      const complaint = await w.open(order.id);
      const points = (await w.p.points(w.memberId)).available;
      const stock = await w.stock(w.mug);
      const [a, b] = await Promise.all([
        send(w.p.agent, RESOLVE, { idempotencyKey: key('race'), complaintId: complaint.id, resolution: 'REPLACEMENT', note: 'New one' }),
        send(second, RESOLVE, { idempotencyKey: key('race'), complaintId: complaint.id, resolution: 'POINTS_REFUND', points: 100, note: 'Points back' }),
      ]);
      const winners = [a, b].filter((r) => r.userErrors.length === 0);
      expect(winners).toHaveLength(1);
      expect([a, b].filter((r) => r.userErrors[0]?.code === 'COMPLAINT_CLOSED')).toHaveLength(1);
      const after = { points: (await w.p.points(w.memberId)).available, stock: await w.stock(w.mug) };
      if (winners[0] === a) {
        expect(after).toEqual({ points, stock: { sold: stock.sold + 1, available: stock.available - 1 } });
      } else {
        expect(after).toEqual({ points: points + 100, stock });
      }
      expect((await events(complaint.id)).map((e) => e.type)).toEqual(['ComplaintOpened', 'ComplaintResolved']);
    }
  });

  it('the same resolution sent 8 times at once: one replacement order, one unit sold, one event', async () => {
    const order = await w.order();
    const complaint = await w.open(order.id);
    const stock = await w.stock(w.mug);
    const input = { idempotencyKey: key('same'), complaintId: complaint.id, resolution: 'REPLACEMENT', note: 'New one' };
    const results = await Promise.all(Array.from({ length: 8 }, () => send(w.p.agent, RESOLVE, input)));
    expect(results.every((r) => r.userErrors.length === 0 && r.complaint!.status === 'RESOLVED')).toBe(true);
    expect(new Set(results.map((r) => r.complaint!.replacementOrder!.id)).size).toBe(1);
    const [row] = (await graph.subgraphs['catalog']!.db.query(`SELECT count(*)::int AS n FROM reward_orders WHERE replaces_complaint_id = $1`, [complaint.id])) as { n: number }[];
    expect(row!.n).toBe(1);
    expect(await w.stock(w.mug)).toEqual({ sold: stock.sold + 1, available: stock.available - 1 });
    expect((await events(complaint.id)).map((e) => e.type)).toEqual(['ComplaintOpened', 'ComplaintResolved']);
  });

  it('a resolution whose request died after its claim is finished by recovery', async () => {
    const order = await w.order();
    const complaint = await w.open(order.id);
    const before = (await w.p.points(w.memberId)).available;
    // What a request leaves behind when the process dies right after claiming the resolution.
    await graph.subgraphs['catalog']!.db.query(
      `UPDATE complaints SET resolving_key = 'died-after-claim', resolving_hash = 'h', resolving_remedy = 'POINTS_REFUND', resolving_points = 40, resolving_note = 'Points back',
         resolving_by = 'agent-who-left', resolving_since = $2 WHERE id = $1`,
      [complaint.id, graph.clock.now()],
    );
    expect((await send(w.p.agent, REJECT, { complaintId: complaint.id, reason: 'No' })).userErrors.map((e) => e.code)).toEqual(['COMPLAINT_CLOSED']);
    graph.clock.advance(60_000);
    await graph.subgraphs['catalog']!.runJobs();
    const { complaint: seen } = await w.member.data<{ complaint: Complaint }>(GET, { id: complaint.id });
    expect(seen).toMatchObject({ status: 'RESOLVED', resolution: 'POINTS_REFUND', pointsRefunded: 40, resolutionNote: 'Points back' });
    expect(seen.history.at(-1)).toMatchObject({ to: 'RESOLVED', changedBy: 'agent-who-left' });
    expect((await w.p.points(w.memberId)).available).toBe(before + 40);
  });
});
