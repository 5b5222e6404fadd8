import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Purchase imports through the gateway with real partner keys made by the partners subgraph: the
 * members named as at the till (card, email, phone; resolved by members), a dry run then the real
 * run of the same file, another partner's key and a key without purchases:write kept out.
 */
let graph: TestSupergraph;
let p: TestProgram;
let partnerA: Caller;
let partnerB: Caller;
let readOnly: Caller;
let partnerAId: string;
let shopperId: string;

const CREATE_PARTNER = `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code field } } }`;
const CREATE_CLIENT = `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { key userErrors { code field } } }`;
const ENROL = `mutation($p: ID!, $ids: [IdentifierInput!]!) { enrollMember(input: { programId: $p, identifiers: $ids }) { member { id } userErrors { code field } } }`;
const CREATE = `mutation($input: CreatePurchaseImportInput!) { createPurchaseImport(input: $input) { purchaseImport { id source } userErrors { code field } } }`;
const CHUNK = `mutation($input: AddPurchaseImportChunkInput!) { addPurchaseImportChunk(input: $input) { lineCount userErrors { code field } } }`;
const START = `mutation($input: StartPurchaseImportInput!) { startPurchaseImport(input: $input) { purchaseImport { status } userErrors { code field } } }`;
const GET = `query($id: ID!) { purchaseImport(id: $id) { status dryRun progress { total processed recorded alreadyRecorded rejected } rejections(first: 10) { nodes { lineNumber transactionId code field } } } }`;

interface ImportView {
  status: string;
  dryRun: boolean;
  progress: { total: number; processed: number; recorded: number; alreadyRecorded: number; rejected: number };
  rejections: { nodes: { lineNumber: number; transactionId: string; code: string; field: string | null }[] };
}

async function keyFor(partnerId: string, scopes: string[]): Promise<string> {
  const { createPartnerApiClient } = await p.admin.data<{ createPartnerApiClient: { key: string } }>(CREATE_CLIENT, {
    input: { idempotencyKey: `import-client-${randomUUID()}`, partnerId, name: 'Back office', scopes },
  });
  return createPartnerApiClient.key;
}

async function partner(name: string): Promise<{ id: string; key: string }> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(CREATE_PARTNER, {
    input: { idempotencyKey: `import-partner-${randomUUID()}`, programId: p.programId, name, category: 'RETAIL' },
  });
  return { id: createPartner.partner.id, key: await keyFor(createPartner.partner.id, ['PURCHASES_WRITE']) };
}

const basket = (amount: string) => ({ currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'BREAD', category: 'food', quantity: 1, amount }] });

async function importFile(who: Caller, lines: unknown[], dryRun: boolean): Promise<string> {
  const { createPurchaseImport } = await who.data<{ createPurchaseImport: { purchaseImport: { id: string; source: string } } }>(CREATE, { input: { idempotencyKey: `file-${randomUUID()}`, dryRun } });
  expect(createPurchaseImport.purchaseImport.source).toBe(`partner:${partnerAId}`);
  const importId = createPurchaseImport.purchaseImport.id;
  const { addPurchaseImportChunk } = await who.data<{ addPurchaseImportChunk: { lineCount: number } }>(CHUNK, { input: { importId, chunkNo: 1, lines } });
  expect(addPurchaseImportChunk.lineCount).toBe(lines.length);
  const { startPurchaseImport } = await who.data<{ startPurchaseImport: { purchaseImport: { status: string } } }>(START, { input: { importId, expectedLines: lines.length } });
  expect(startPurchaseImport.purchaseImport.status).toBe('QUEUED');
  // The ledger's scheduler, by hand (tests run jobs instead of waiting for timers).
  await graph.subgraphs['ledger']!.runJobs();
  return importId;
}

beforeAll(async () => {
  graph = await startSupergraph();
  p = await createTestProgram(graph, { name: 'Import program' });
  const a = await partner('Bakery');
  const b = await partner('Butcher');
  partnerAId = a.id;
  partnerA = caller(graph.gatewayUrl, { 'x-api-key': a.key });
  partnerB = caller(graph.gatewayUrl, { 'x-api-key': b.key });
  readOnly = caller(graph.gatewayUrl, { 'x-api-key': await keyFor(a.id, ['PURCHASES_READ']) });
  const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, {
    p: p.programId,
    ids: [
      { type: 'CARD', value: 'IMP123456' },
      { type: 'EMAIL', value: 'import.shopper@example.com' },
      { type: 'PHONE', value: '+48501999888' },
    ],
  });
  shopperId = enrollMember.member.id;
  await graph.deliverEvents();
});
afterAll(() => graph?.stop());

describe('purchase imports through the gateway', () => {
  it('a partner’s file names members as at the till; a dry run reports, the real run records each line once for the right member', async () => {
    const runId = randomUUID().slice(0, 8);
    const lines = [
      { transactionId: `${runId}-1`, member: { type: 'CARD', value: 'imp 1234 56' }, basket: basket('10.00') },
      { transactionId: `${runId}-2`, member: { type: 'EMAIL', value: ' Import.Shopper@EXAMPLE.com' }, basket: basket('20.00') },
      { transactionId: `${runId}-3`, member: { type: 'PHONE', value: '0048 501-999-888' }, basket: basket('30.00') },
      { transactionId: `${runId}-4`, member: { type: 'CARD', value: 'NOBODY-1' }, basket: basket('40.00') },
      { transactionId: `${runId}-5`, memberId: shopperId, basket: basket('5.00') },
    ];
    const dry = await importFile(partnerA, lines, true);
    const report = (await partnerA.data<{ purchaseImport: ImportView }>(GET, { id: dry })).purchaseImport;
    expect(report).toMatchObject({ status: 'COMPLETED', dryRun: true, progress: { total: 5, processed: 5, recorded: 4, alreadyRecorded: 0, rejected: 1 } });
    expect(report.rejections.nodes).toEqual([{ lineNumber: 4, transactionId: `${runId}-4`, code: 'MEMBER_NOT_FOUND', field: 'member' }]);
    const ledgerDb = graph.subgraphs['ledger']!.db;
    const stored = async () =>
      (await ledgerDb.query(`SELECT external_id AS tx, member_id AS "memberId", points FROM purchases WHERE source = $1 AND external_id LIKE $2 ORDER BY external_id`, [`partner:${partnerAId}`, `${runId}-%`])) as {
        tx: string;
        memberId: string;
        points: number;
      }[];
    expect(await stored()).toEqual([]);

    const real = await importFile(partnerA, lines, false);
    expect((await partnerA.data<{ purchaseImport: ImportView }>(GET, { id: real })).purchaseImport.progress).toMatchObject({ recorded: 4, rejected: 1 });
    expect((await stored()).map((r) => [r.tx, r.memberId])).toEqual([1, 2, 3, 5].map((n) => [`${runId}-${n}`, shopperId]));
    // The same file again: nothing twice.
    const again = await importFile(partnerA, lines, false);
    expect((await partnerA.data<{ purchaseImport: ImportView }>(GET, { id: again })).purchaseImport.progress).toMatchObject({ recorded: 0, alreadyRecorded: 4, rejected: 1 });
    expect(await stored()).toHaveLength(4);
  });

  it('another partner does not see the import; a key without purchases:write and members are refused', async () => {
    const importId = await importFile(partnerA, [{ transactionId: `x-${randomUUID()}`, memberId: shopperId, basket: basket('1.00') }], true);
    expect((await partnerB.data<{ purchaseImport: ImportView | null }>(GET, { id: importId })).purchaseImport).toBeNull();
    expect(errorCodes(await readOnly.send(GET, { id: importId }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await readOnly.send(CREATE, { input: { idempotencyKey: `file-${randomUUID()}` } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await p.agent.send(CREATE, { input: { idempotencyKey: `file-${randomUUID()}`, source: 'pos' } }))).toEqual(['FORBIDDEN']);
    expect((await p.admin.data<{ purchaseImport: ImportView | null }>(GET, { id: importId })).purchaseImport?.status).toBe('COMPLETED');
  });
});
