import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Purchase ingestion through the gateway with real partner keys made by the partners subgraph:
 * members recognised by card, email or phone as at the till; exactly once per partner transaction
 * id, one at a time (recordPurchase) and in bulk (recordPurchases); members down.
 */
let graph: TestSupergraph;
let p: TestProgram;
let partnerA: Caller;
let partnerB: Caller;
let readOnly: Caller;
let partnerAId: string;
let partnerBId: string;
let shopperId: string;
/** Members recognised by card in the bulk calls: CARD0000 … CARD0009. */
const cardHolders: string[] = [];

const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code field } } }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key userErrors { code field } } }`;
const ENROL = `mutation($p: ID!, $ids: [IdentifierInput!]!) { enrollMember(input: { programId: $p, identifiers: $ids }) { member { id } userErrors { code field } } }`;
const RECORD = `mutation($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { purchase { id source externalId member { id } } userErrors { code field message } }
}`;
const RECORD_MANY = `mutation($input: RecordPurchasesInput!) {
  recordPurchases(input: $input) { lines { index transactionId status purchase { id } error { code field } } recorded alreadyRecorded rejected }
}`;

interface Recorded {
  recordPurchase: { purchase: { id: string; source: string; externalId: string; member: { id: string } } | null; userErrors: { code: string; field: string | null; message: string }[] };
}
interface LineReport {
  index: number;
  transactionId: string;
  status: 'RECORDED' | 'ALREADY_RECORDED' | 'REJECTED';
  purchase: { id: string } | null;
  error: { code: string; field: string | null } | null;
}
interface RecordedMany {
  recordPurchases: { lines: LineReport[]; recorded: number; alreadyRecorded: number; rejected: number };
}

const basket = (amount = '25.00') => ({ currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'COFFEE', category: 'food', quantity: 1, amount }] });
const single = (member: { memberId: string } | { member: { type: string; value: string } }, externalId: string = randomUUID(), amount = '25.00') => ({
  input: { idempotencyKey: randomUUID(), source: 'till', externalId, basket: basket(amount), ...member },
});

async function partnerWithKey(name: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(CREATE_PARTNER, {
    input: { idempotencyKey: `ingest-partner-${randomUUID()}`, programId: p.programId, name, category: 'RETAIL' },
  });
  return { id: createPartner.partner.id, key: await keyFor(createPartner.partner.id, scopes) };
}

async function keyFor(partnerId: string, scopes: string[]): Promise<string> {
  const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(CREATE_CLIENT, {
    input: { idempotencyKey: `ingest-client-${randomUUID()}`, partnerId, name: 'Till', scopes },
  });
  return createPartnerApiClient.key;
}

const enrol = async (program: TestProgram, identifiers: { type: string; value: string }[]) =>
  (await program.agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, { p: program.programId, ids: identifiers })).enrollMember.member.id;

/** Purchases the ledger holds for a partner's transaction ids (the unique key is the judge, not the answers). */
async function storedCount(partnerId: string, transactionIds: string[]): Promise<Map<string, number>> {
  const rows = (await graph.subgraphs['ledger']!.db.query(
    `SELECT external_id, count(*)::int AS n FROM purchases WHERE source = $1 AND external_id = ANY($2::text[]) GROUP BY external_id`,
    [`partner:${partnerId}`, transactionIds],
  )) as { external_id: string; n: number }[];
  return new Map(rows.map((r) => [r.external_id, r.n]));
}

beforeAll(async () => {
  // Two full bulk calls at once (about 5,000 cost points each, docs/limits.md) would take more than
  // a partner's default bucket: this file is about ingestion, so partners get room for them.
  graph = await startSupergraph({ gateway: { limits: { budgets: { partner: { capacity: 50_000, restoreRate: 5_000 } } } } });
  p = await createTestProgram(graph, { name: 'Ingestion program' });
  const a = await partnerWithKey('Corner Café', ['PURCHASES_WRITE']);
  const b = await partnerWithKey('Fuel Stop', ['PURCHASES_WRITE']);
  partnerAId = a.id;
  partnerBId = b.id;
  partnerA = caller(graph.gatewayUrl, { 'x-api-key': a.key });
  partnerB = caller(graph.gatewayUrl, { 'x-api-key': b.key });
  readOnly = caller(graph.gatewayUrl, { 'x-api-key': await keyFor(a.id, ['PURCHASES_READ']) });
  shopperId = await enrol(p, [
    { type: 'CARD', value: 'LG123456' },
    { type: 'EMAIL', value: 'till.shopper@example.com' },
    { type: 'PHONE', value: '+48501234567' },
  ]);
  for (let n = 0; n < 10; n++) cardHolders.push(await enrol(p, [{ type: 'CARD', value: `CARD${String(n).padStart(4, '0')}` }]));
  const other = await createTestProgram(graph, { name: 'Other program' });
  await enrol(other, [{ type: 'EMAIL', value: 'stranger@example.com' }]);
  await graph.deliverEvents();
});
afterAll(() => graph?.stop());

describe('a partner recognises the member as at the till', () => {
  it('by card, email and phone however typed: each records for the right member, from the partner’s own source', async () => {
    for (const member of [
      { type: 'CARD', value: 'lg 1234 56' },
      { type: 'EMAIL', value: '  Till.Shopper@EXAMPLE.com ' },
      { type: 'PHONE', value: '0048 501-234-567' },
    ]) {
      const externalId = randomUUID();
      const { recordPurchase } = await partnerA.data<Recorded>(RECORD, single({ member }, externalId));
      expect(recordPurchase).toEqual({ purchase: { id: expect.any(String), source: `partner:${partnerAId}`, externalId, member: { id: shopperId } }, userErrors: [] });
    }
  });

  it('an unknown identifier and another program’s member are the same MEMBER_NOT_FOUND', async () => {
    const unknown = await partnerA.data<Recorded>(RECORD, single({ member: { type: 'EMAIL', value: 'nobody@example.com' } }));
    const elsewhere = await partnerA.data<Recorded>(RECORD, single({ member: { type: 'EMAIL', value: 'stranger@example.com' } }));
    expect(unknown.recordPurchase).toEqual({ purchase: null, userErrors: [{ code: 'MEMBER_NOT_FOUND', field: 'member', message: 'No such member' }] });
    expect(elsewhere).toEqual(unknown);
  });

  it('exactly one of memberId and member: both or neither is BAD_USER_INPUT naming the field', async () => {
    const both = await partnerA.send(RECORD, single({ memberId: shopperId, member: { type: 'CARD', value: 'LG123456' } } as never));
    const neither = await partnerA.send(RECORD, single({} as never));
    expect(errorCodes(both)).toEqual(['BAD_USER_INPUT']);
    expect(both.errors?.[0]?.extensions?.['field']).toBe('member');
    expect(errorCodes(neither)).toEqual(['BAD_USER_INPUT']);
    expect(neither.errors?.[0]?.extensions?.['field']).toBe('memberId');
  });
});

describe('exactly once per partner transaction id', () => {
  it('two partners may use the same transaction id; a retry returns the original; other content under it is refused', async () => {
    const transactionId = `T-${randomUUID()}`;
    const a = await partnerA.data<Recorded>(RECORD, single({ memberId: shopperId }, transactionId));
    const b = await partnerB.data<Recorded>(RECORD, single({ member: { type: 'CARD', value: 'LG123456' } }, transactionId));
    expect(a.recordPurchase.purchase?.source).toBe(`partner:${partnerAId}`);
    expect(b.recordPurchase.purchase?.source).toBe(`partner:${partnerBId}`);
    expect(b.recordPurchase.purchase?.id).not.toBe(a.recordPurchase.purchase?.id);

    // A retry under a new idempotency key, naming the member by card this time: the same purchase.
    const retry = await partnerA.data<Recorded>(RECORD, single({ member: { type: 'CARD', value: 'LG123456' } }, transactionId));
    expect(retry.recordPurchase.purchase?.id).toBe(a.recordPurchase.purchase?.id);
    const changed = await partnerA.data<Recorded>(RECORD, single({ memberId: shopperId }, transactionId, '30.00'));
    expect(changed.recordPurchase.purchase).toBeNull();
    expect(changed.recordPurchase.userErrors.map((e) => [e.code, e.field])).toEqual([['PURCHASE_ALREADY_RECORDED', 'externalId']]);
    expect((await storedCount(partnerAId, [transactionId])).get(transactionId)).toBe(1);
    expect((await storedCount(partnerBId, [transactionId])).get(transactionId)).toBe(1);
  });
});

describe('recordPurchases', () => {
  /** 1,000 lines: by card (even) or member id (odd), with a bad amount, unknown members and repeated transaction ids among them. */
  function batch(prefix: string) {
    const lines = Array.from({ length: 1000 }, (_, i) => {
      const holder = i % cardHolders.length;
      const member = i % 2 === 0 ? { member: { type: 'CARD', value: `card${String(holder).padStart(4, '0')}` } } : { memberId: cardHolders[holder]! };
      return { transactionId: `${prefix}-${i}`, ...member, basket: basket(`${(i % 50) + 1}.00`) };
    });
    const badAmount = [7, 500];
    const unknown = [10, 998];
    const repeated = [20, 999];
    for (const i of badAmount) lines[i]!.basket = basket('-5.00');
    for (const i of unknown) lines[i] = { ...lines[i]!, member: { type: 'CARD', value: 'NOSUCHCARD' } } as (typeof lines)[number];
    for (const i of repeated) lines[i]!.transactionId = `${prefix}-3`;
    return { lines, rejected: new Set([...badAmount, ...unknown, ...repeated]) };
  }

  it('1,000 lines: a report per line in input order, refused lines named, the rest recorded exactly once', async () => {
    const prefix = `bulk-${randomUUID()}`;
    const { lines, rejected } = batch(prefix);
    const { recordPurchases } = await partnerA.data<RecordedMany>(RECORD_MANY, { input: { lines } });
    expect(recordPurchases.lines.map((l) => l.index)).toEqual(lines.map((_, i) => i));
    expect(recordPurchases.lines.map((l) => l.transactionId)).toEqual(lines.map((l) => l.transactionId));
    expect({ recorded: recordPurchases.recorded, alreadyRecorded: recordPurchases.alreadyRecorded, rejected: recordPurchases.rejected }).toEqual({ recorded: 994, alreadyRecorded: 0, rejected: 6 });
    const errors = Object.fromEntries(recordPurchases.lines.filter((l) => l.error).map((l) => [l.index, [l.status, l.error!.code, l.error!.field, l.purchase]]));
    expect(errors).toEqual({
      7: ['REJECTED', 'BAD_USER_INPUT', 'lines.7.basket.lines.0.amount', null],
      500: ['REJECTED', 'BAD_USER_INPUT', 'lines.500.basket.lines.0.amount', null],
      10: ['REJECTED', 'MEMBER_NOT_FOUND', 'lines.10.member', null],
      998: ['REJECTED', 'MEMBER_NOT_FOUND', 'lines.998.member', null],
      20: ['REJECTED', 'DUPLICATE_TRANSACTION_ID', 'lines.20.transactionId', null],
      999: ['REJECTED', 'DUPLICATE_TRANSACTION_ID', 'lines.999.transactionId', null],
    });
    for (const line of recordPurchases.lines.filter((l) => !rejected.has(l.index))) expect([line.status, typeof line.purchase?.id]).toEqual(['RECORDED', 'string']);

    const stored = await storedCount(partnerAId, lines.map((l) => l.transactionId));
    expect(stored.size).toBe(994);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    // Line 3's purchase is line 3's content, not a repeat's.
    const [three] = (await graph.subgraphs['ledger']!.db.query(`SELECT total::text FROM purchases WHERE source = $1 AND external_id = $2`, [`partner:${partnerAId}`, `${prefix}-3`])) as { total: string }[];
    expect(Number(three!.total)).toBe(4);

    // The same call again: nothing new, the original purchases back.
    const again = await partnerA.data<RecordedMany>(RECORD_MANY, { input: { lines } });
    expect({ recorded: again.recordPurchases.recorded, alreadyRecorded: again.recordPurchases.alreadyRecorded, rejected: again.recordPurchases.rejected }).toEqual({ recorded: 0, alreadyRecorded: 994, rejected: 6 });
    expect(again.recordPurchases.lines.map((l) => l.purchase?.id ?? null)).toEqual(recordPurchases.lines.map((l) => l.purchase?.id ?? null));
  });

  it('the same call sent twice at once records each line once', async () => {
    const { lines } = batch(`race-${randomUUID()}`);
    const [first, second] = await Promise.all([partnerB.data<RecordedMany>(RECORD_MANY, { input: { lines } }), partnerB.data<RecordedMany>(RECORD_MANY, { input: { lines } })]);
    expect(first!.recordPurchases.recorded + second!.recordPurchases.recorded).toBe(994);
    expect(first!.recordPurchases.alreadyRecorded + second!.recordPurchases.alreadyRecorded).toBe(994);
    first!.recordPurchases.lines.forEach((line, i) => {
      const other = second!.recordPurchases.lines[i]!;
      expect(other.purchase?.id ?? null).toBe(line.purchase?.id ?? null);
      if (line.status !== 'REJECTED') expect([line.status, other.status].sort()).toEqual(['ALREADY_RECORDED', 'RECORDED']);
    });
    const stored = await storedCount(partnerBId, lines.map((l) => l.transactionId));
    expect(stored.size).toBe(994);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
  });

  it('is open to the program’s agents, with the source they name (never a partner’s)', async () => {
    const transactionId = `store-${randomUUID()}`;
    const lines = [{ transactionId, member: { type: 'EMAIL', value: 'TILL.SHOPPER@example.com' }, basket: basket() }];
    const { recordPurchases } = await p.agent.data<RecordedMany>(RECORD_MANY, { input: { source: 'store-9', lines } });
    expect(recordPurchases.lines.map((l) => [l.status, l.error])).toEqual([['RECORDED', null]]);
    const [row] = (await graph.subgraphs['ledger']!.db.query(`SELECT source, member_id FROM purchases WHERE external_id = $1`, [transactionId])) as { source: string; member_id: string }[];
    expect(row).toEqual({ source: 'store-9', member_id: shopperId });
    for (const source of [null, `partner:${partnerAId}`]) {
      const response = await p.agent.send(RECORD_MANY, { input: { source, lines } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.extensions?.['field']).toBe('source');
    }
  });

  it('refuses a key without purchases:write, and 0 or 1,001 lines', async () => {
    const line = { transactionId: randomUUID(), memberId: shopperId, basket: basket() };
    expect(errorCodes(await readOnly.send(RECORD_MANY, { input: { lines: [line] } }))).toEqual(['FORBIDDEN']);
    for (const lines of [[], Array.from({ length: 1001 }, (_, i) => ({ ...line, transactionId: `too-many-${i}` }))]) {
      const response = await partnerA.send(RECORD_MANY, { input: { lines } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.extensions?.['field']).toBe('lines');
    }
  });
});

describe('members’ bulk identifier lookup', () => {
  const LOOKUP = `query($p: ID!, $ids: [IdentifierInput!]!) { memberIdsByIdentifiers(programId: $p, identifiers: $ids) }`;
  it('answers services only: ids in input order, normalised by members’ rules, null for unknown or invalid', async () => {
    const service = await graph.service('members');
    const ids = [
      { type: 'PHONE', value: '+48 (501) 234-567' },
      { type: 'EMAIL', value: 'nobody@example.com' },
      { type: 'CARD', value: 'card 0003' },
      { type: 'EMAIL', value: 'not an email' },
      { type: 'EMAIL', value: 'stranger@example.com' },
    ];
    const { memberIdsByIdentifiers } = await service.data<{ memberIdsByIdentifiers: (string | null)[] }>(LOOKUP, { p: p.programId, ids });
    expect(memberIdsByIdentifiers).toEqual([shopperId, null, cardHolders[3], null, null]);
    expect(errorCodes(await p.agent.send(LOOKUP, { p: p.programId, ids }))).toEqual(['FORBIDDEN']);
  });
});

// Last: it stops members for good.
describe('members down', () => {
  it('lines naming members by identifier are SUBGRAPH_UNAVAILABLE and nothing of them is recorded; recordPurchase by card too', async () => {
    await graph.subgraphs['members']!.stop();
    const prefix = `down-${randomUUID()}`;
    const lines = Array.from({ length: 5 }, (_, i) => ({ transactionId: `${prefix}-${i}`, member: { type: 'CARD', value: 'LG123456' }, basket: basket() }));
    const { recordPurchases } = await partnerA.data<RecordedMany>(RECORD_MANY, { input: { lines } });
    expect(recordPurchases.rejected).toBe(5);
    expect(recordPurchases.lines.map((l) => [l.status, l.error?.code, l.error?.field])).toEqual(lines.map((_, i) => ['REJECTED', 'SUBGRAPH_UNAVAILABLE', `lines.${i}.member`]));
    expect((await storedCount(partnerAId, lines.map((l) => l.transactionId))).size).toBe(0);

    const one = await partnerA.send(RECORD, single({ member: { type: 'CARD', value: 'LG123456' } }));
    expect(errorCodes(one)).toEqual(['SUBGRAPH_UNAVAILABLE']);
  });
});
