import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { checkInvariants } from '../src/audit';

/**
 * Purchase imports, the ledger alone (members' facts written into its projection by hand, members
 * named by id): a dry run's report, a real run with rejects and duplicates, a replica SIGKILLed in
 * the middle and another finishing, two replicas at once, and who may see or touch an import.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const programId = randomUUID();
const partnerA = randomUUID();
const partnerB = randomUUID();
const DAY = 86_400_000;

const ADMIN: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN'], subject: 'admin-1' };
const AGENT: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent-1' };
const partner = (partnerId: string, scopes = ['purchases:write']): Viewer => ({ ...ANONYMOUS, kind: 'PARTNER', programId, partnerId, scopes, subject: `client-${partnerId}` });
let admin: Caller;
let a: Caller;
let b: Caller;
let members: string[] = [];
/** A member of another program: to a partner, nobody (as an unknown id, without asking members). */
let stranger: string;

const CREATE = `mutation($input: CreatePurchaseImportInput!) { createPurchaseImport(input: $input) { purchaseImport { id status source dryRun } userErrors { code field } } }`;
const CHUNK = `mutation($input: AddPurchaseImportChunkInput!) { addPurchaseImportChunk(input: $input) { purchaseImport { id } lineCount userErrors { code field message } } }`;
const START = `mutation($input: StartPurchaseImportInput!) { startPurchaseImport(input: $input) { purchaseImport { id status expectedLines progress { total } } userErrors { code field message } } }`;
const CANCEL = `mutation($input: CancelPurchaseImportInput!) { cancelPurchaseImport(input: $input) { purchaseImport { id status } userErrors { code field } } }`;
const GET = `query($id: ID!, $after: String) { purchaseImport(id: $id) {
  id status dryRun expectedLines
  progress { total processed recorded alreadyRecorded rejected linesPerSecond startedAt finishedAt }
  rejections(first: 100, after: $after) { nodes { lineNumber transactionId code field } pageInfo { hasNextPage endCursor } }
} }`;
const RECORD_MANY = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded alreadyRecorded rejected } }`;

interface Line {
  transactionId: string;
  memberId: string;
  occurredAt?: string;
  basket: { currency: string; channel: string; lines: { lineId: string; sku: string; category: string; quantity: number; amount: string }[] };
}
interface ImportView {
  id: string;
  status: string;
  dryRun: boolean;
  expectedLines: number | null;
  progress: { total: number; processed: number; recorded: number; alreadyRecorded: number; rejected: number; linesPerSecond: number | null; startedAt: string | null; finishedAt: string | null };
  rejections: { nodes: { lineNumber: number; transactionId: string; code: string; field: string | null }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const line = (transactionId: string, memberId: string, amount = '10.00', occurredAt?: Date): Line => ({
  transactionId,
  memberId,
  ...(occurredAt ? { occurredAt: occurredAt.toISOString() } : {}),
  basket: { currency: 'EUR', channel: 'PARTNER', lines: [{ lineId: '1', sku: 'SKU', category: 'food', quantity: 1, amount }] },
});

async function member(program = programId): Promise<string> {
  const id = randomUUID();
  await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at) VALUES ($1, $2, 'ACTIVE', NULL, 1, $3)`, [id, program, sub.clock.now()]);
  return id;
}

/** Creates an import and sends `lines` in chunks of `chunkSize`; started unless told otherwise. */
async function upload(caller: Caller, lines: Line[], options: { dryRun?: boolean; chunkSize?: number; start?: boolean; source?: string } = {}): Promise<string> {
  const { createPurchaseImport } = await caller.data<{ createPurchaseImport: { purchaseImport: { id: string } | null; userErrors: unknown[] } }>(CREATE, {
    input: { idempotencyKey: `import-${randomUUID()}`, dryRun: options.dryRun ?? false, ...(options.source ? { source: options.source } : {}) },
  });
  expect(createPurchaseImport.userErrors).toEqual([]);
  const importId = createPurchaseImport.purchaseImport!.id;
  const size = options.chunkSize ?? 1_000;
  for (let i = 0; i * size < lines.length; i++) {
    const { addPurchaseImportChunk } = await caller.data<{ addPurchaseImportChunk: { userErrors: unknown[] } }>(CHUNK, { input: { importId, chunkNo: i + 1, lines: lines.slice(i * size, (i + 1) * size) } });
    expect(addPurchaseImportChunk.userErrors).toEqual([]);
  }
  if (options.start ?? true) {
    const { startPurchaseImport } = await caller.data<{ startPurchaseImport: { purchaseImport: { status: string } | null; userErrors: unknown[] } }>(START, { input: { importId, expectedLines: lines.length } });
    expect(startPurchaseImport.userErrors).toEqual([]);
    expect(startPurchaseImport.purchaseImport!.status).toBe('QUEUED');
  }
  return importId;
}

async function view(caller: Caller, id: string): Promise<ImportView | null> {
  return (await caller.data<{ purchaseImport: ImportView | null }>(GET, { id })).purchaseImport;
}

/** The whole report, every page. */
async function allRejections(caller: Caller, id: string): Promise<ImportView['rejections']['nodes']> {
  const all: ImportView['rejections']['nodes'] = [];
  let after: string | null = null;
  for (;;) {
    const { purchaseImport } = (await caller.data<{ purchaseImport: ImportView }>(GET, { id, after })) as { purchaseImport: ImportView };
    all.push(...purchaseImport.rejections.nodes);
    if (!purchaseImport.rejections.pageInfo.hasNextPage) return all;
    after = purchaseImport.rejections.pageInfo.endCursor;
  }
}

/** Runs the job until it has nothing left (as the scheduler would, tick after tick). */
async function runImports(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const done = await sub.runJobs();
    if (done['record-purchase-imports'] === 0) return;
  }
  throw new Error('the import job did not finish');
}

/** Purchases per transaction id under a source: the unique key and the count, not the answers, judge. */
async function storedPerTransaction(source: string): Promise<{ distinct: number; rows: number; doubled: number }> {
  const [row] = (await sub.db.query(
    `SELECT count(DISTINCT external_id)::int AS distinct, count(*)::int AS rows,
            (SELECT count(*)::int FROM (SELECT external_id FROM purchases WHERE source = $1 GROUP BY program_id, external_id HAVING count(*) > 1) d) AS doubled
     FROM purchases WHERE source = $1`,
    [source],
  )) as { distinct: number; rows: number; doubled: number }[];
  return row!;
}

const WORKER = fileURLToPath(new URL('./support/import-worker.ts', import.meta.url));

/** A ledger replica running only the import job, in a process of its own. */
function worker(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, LEDGER_DATABASE_URL: sub.database.url, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`[import-worker] ${stderr}\n`);
      resolve(code);
    }),
  );
  child.stdout?.resume();
  return { child, exited };
}

async function progressOf(id: string): Promise<{ status: string; processed: number; total: number }> {
  const [row] = (await sub.db.query(`SELECT status, processed_lines AS processed, total_lines AS total FROM purchase_imports WHERE id = $1`, [id])) as { status: string; processed: number; total: number }[];
  return row!;
}

beforeAll(async () => {
  sub = await startTestSubgraph(ledgerSubgraph as unknown as SubgraphModule<ViewerContext>);
  admin = await sub.as(ADMIN);
  a = await sub.as(partner(partnerA));
  b = await sub.as(partner(partnerB));
  const { configureLedger } = await admin.data<{ configureLedger: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { userErrors { code message } } }`,
    { input: { programId, returnWindowDays: 0, purchaseMaxAgeDays: 30 } },
  );
  expect(configureLedger.userErrors).toEqual([]);
  const { publishEarningRules } = await admin.data<{ publishEarningRules: { userErrors: unknown[] } }>(
    `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code } } }`,
    { input: { programId, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', effectiveFrom: new Date(sub.clock.now().getTime() - 365 * DAY).toISOString() } },
  );
  expect(publishEarningRules.userErrors).toEqual([]);
  members = await Promise.all(Array.from({ length: 40 }, () => member()));
  stranger = await member(randomUUID());
});
afterAll(() => sub?.stop());

describe('purchase imports', () => {
  it('a dry run reports every line’s verdict and writes nothing else', async () => {
    const m = members[0]!;
    const runId = randomUUID().slice(0, 8);
    const id = (n: number) => `dry-${runId}-${n}`;
    // Recorded before: one with the same content (ALREADY_RECORDED), one the file changes.
    const same = line(id(1), m, '12.00');
    const changed = line(id(2), m, '13.00');
    await a.data(RECORD_MANY, { input: { lines: [same, changed] } });
    const lines = [
      line(id(3), m), // fine
      same,
      { ...changed, basket: { ...changed.basket, lines: [{ ...changed.basket.lines[0]!, amount: '99.00' }] } },
      line(id(4), stranger), // nobody (for this partner)
      line(id(5), m, '10.00', new Date(sub.clock.now().getTime() - 40 * DAY)), // older than the program's 30 days
      line(id(6), m, '10.00', new Date(sub.clock.now().getTime() + DAY)), // in the future
      { ...line(id(7), m), basket: { ...line(id(7), m).basket, currency: 'euro' } }, // malformed
      line(id(3), m, '11.00'), // the file's line 1 again
      line(id(8), m), // fine
    ];
    const before = (await sub.db.query(`SELECT (SELECT count(*) FROM purchases)::int AS p, (SELECT count(*) FROM idempotency_keys)::int AS k, (SELECT count(*) FROM outbox)::int AS o`)) as unknown[];
    const importId = await upload(a, lines, { dryRun: true, chunkSize: 4 });
    await runImports();
    const report = (await view(a, importId))!;
    expect(report.status).toBe('COMPLETED');
    expect(report.dryRun).toBe(true);
    expect(report.progress).toMatchObject({ total: 9, processed: 9, recorded: 2, alreadyRecorded: 1, rejected: 6 });
    expect(report.rejections.nodes.map((r) => [r.lineNumber, r.code])).toEqual([
      [3, 'PURCHASE_ALREADY_RECORDED'],
      [4, 'MEMBER_NOT_FOUND'],
      [5, 'PURCHASE_TOO_OLD'],
      [6, 'BAD_USER_INPUT'],
      [7, 'BAD_USER_INPUT'],
      [8, 'DUPLICATE_TRANSACTION_ID'],
    ]);
    expect(report.rejections.nodes.find((r) => r.lineNumber === 7)!.field).toBe('basket.currency');
    const after = (await sub.db.query(`SELECT (SELECT count(*) FROM purchases)::int AS p, (SELECT count(*) FROM idempotency_keys)::int AS k, (SELECT count(*) FROM outbox)::int AS o`)) as unknown[];
    expect(after).toEqual(before);
  });

  it('records 5,000 lines once each, with rejects, in-file duplicates and lines recorded before; the ledger audit stays clean', async () => {
    const runId = randomUUID().slice(0, 8);
    const tx = (n: number) => `big-${runId}-${n}`;
    const lines: Line[] = Array.from({ length: 5_000 }, (_, n) => line(tx(n), members[n % members.length]!, `${(n % 50) + 1}.00`));
    for (const n of [10, 999, 1_000, 4_999]) lines[n] = line(tx(n), stranger); // nobody: 4 rejects
    for (const n of [20, 2_500]) lines[n] = { ...lines[n]!, transactionId: tx(n - 1) }; // the line before's id: 2 duplicates
    // 5 lines a partner's end-of-day call already recorded: ALREADY_RECORDED, not twice.
    await a.data(RECORD_MANY, { input: { lines: lines.slice(100, 105) } });
    // And one recorded before with another amount: the file's line is refused, the first stays.
    const earlier = { ...lines[300]!, basket: { ...lines[300]!.basket, lines: [{ ...lines[300]!.basket.lines[0]!, amount: '99.00' }] } };
    await a.data(RECORD_MANY, { input: { lines: [earlier] } });
    const importId = await upload(a, lines);
    await runImports();
    const report = (await view(a, importId))!;
    expect(report.status).toBe('COMPLETED');
    expect(report.progress).toMatchObject({ total: 5_000, processed: 5_000, recorded: 5_000 - 4 - 2 - 5 - 1, alreadyRecorded: 5, rejected: 7 });
    const rejections = await allRejections(a, importId);
    expect(rejections.find((r) => r.lineNumber === 301)).toMatchObject({ code: 'PURCHASE_ALREADY_RECORDED', field: 'transactionId' });
    expect(rejections.map((r) => [r.lineNumber, r.code])).toEqual([
      [11, 'MEMBER_NOT_FOUND'],
      [21, 'DUPLICATE_TRANSACTION_ID'],
      [301, 'PURCHASE_ALREADY_RECORDED'],
      [1_000, 'MEMBER_NOT_FOUND'],
      [1_001, 'MEMBER_NOT_FOUND'],
      [2_501, 'DUPLICATE_TRANSACTION_ID'],
      [5_000, 'MEMBER_NOT_FOUND'],
    ]);
    const [stored] = (await sub.db.query(`SELECT count(*)::int AS n, coalesce(sum(points), 0)::int AS points FROM purchases WHERE source = $1 AND external_id LIKE $2`, [`partner:${partnerA}`, `big-${runId}-%`])) as {
      n: number;
      points: number;
    }[];
    expect(stored!.n).toBe(5_000 - 6);
    // 1 point per euro: the points are the lines' amounts, each counted once.
    const expected = lines.filter((l, n) => ![10, 999, 1_000, 4_999, 20, 2_500, 300].includes(n)).reduce((sum, l) => sum + Number(l.basket.lines[0]!.amount), 0) + 99;
    expect(stored!.points).toBe(expected);
    expect(await storedPerTransaction(`partner:${partnerA}`)).toMatchObject({ doubled: 0 });
    const [events] = (await sub.db.query(`SELECT count(*)::int AS n FROM outbox WHERE event_type = 'PointsAccrued' AND payload->>'externalId' LIKE $1`, [`big-${runId}-%`])) as { n: number }[];
    expect(events!.n).toBe(5_000 - 6);
    expect(await checkInvariants(sub.db)).toEqual([]);
  }, 120_000);

  it('takes each chunk once, refuses other lines under a used number, and starts only with every chunk there', async () => {
    const m = members[1]!;
    const lines = Array.from({ length: 6 }, (_, n) => line(`chunks-${n}-${randomUUID()}`, m));
    const importId = await upload(a, lines.slice(0, 2), { chunkSize: 2, start: false });
    const again = await a.data<{ addPurchaseImportChunk: { lineCount: number; userErrors: unknown[] } }>(CHUNK, { input: { importId, chunkNo: 1, lines: lines.slice(0, 2) } });
    expect(again.addPurchaseImportChunk).toMatchObject({ lineCount: 2, userErrors: [] });
    expect(errorCodes(await a.send(CHUNK, { input: { importId, chunkNo: 1, lines: lines.slice(2, 4) } }))).toEqual(['CONFLICT']);
    await a.data(CHUNK, { input: { importId, chunkNo: 3, lines: lines.slice(4, 6) } });
    const missing = await a.data<{ startPurchaseImport: { userErrors: { code: string; message: string }[] } }>(START, { input: { importId, expectedLines: 4 } });
    expect(missing.startPurchaseImport.userErrors).toMatchObject([{ code: 'IMPORT_INCOMPLETE', message: expect.stringContaining('2') }]);
    await a.data(CHUNK, { input: { importId, chunkNo: 2, lines: lines.slice(2, 4) } });
    const miscounted = await a.data<{ startPurchaseImport: { userErrors: { code: string }[] } }>(START, { input: { importId, expectedLines: 5 } });
    expect(miscounted.startPurchaseImport.userErrors.map((e) => e.code)).toEqual(['LINE_COUNT_MISMATCH']);
    await a.data(START, { input: { importId, expectedLines: 6 } });
    const late = await a.data<{ addPurchaseImportChunk: { userErrors: { code: string }[] } }>(CHUNK, { input: { importId, chunkNo: 4, lines: lines.slice(0, 1) } });
    expect(late.addPurchaseImportChunk.userErrors.map((e) => e.code)).toEqual(['IMPORT_NOT_UPLOADING']);
    await runImports();
    expect((await view(a, importId))!.progress).toMatchObject({ total: 6, recorded: 6 });
    expect(errorCodes(await a.send(CHUNK, { input: { importId, chunkNo: 1001, lines: lines.slice(0, 1) } }))).toEqual(['BAD_USER_INPUT']);
  });

  it('a cancelled import records nothing more', async () => {
    const lines = Array.from({ length: 3 }, (_, n) => line(`cancel-${n}-${randomUUID()}`, members[2]!));
    const importId = await upload(a, lines);
    const { cancelPurchaseImport } = await a.data<{ cancelPurchaseImport: { purchaseImport: { status: string } } }>(CANCEL, { input: { importId } });
    expect(cancelPurchaseImport.purchaseImport.status).toBe('CANCELLED');
    await runImports();
    expect((await view(a, importId))!.progress.processed).toBe(0);
    const [row] = (await sub.db.query(`SELECT count(*)::int AS n FROM purchases WHERE external_id = ANY($1::text[])`, [lines.map((l) => l.transactionId)])) as { n: number }[];
    expect(row!.n).toBe(0);
    const again = await a.data<{ cancelPurchaseImport: { userErrors: { code: string }[] } }>(CANCEL, { input: { importId } });
    expect(again.cancelPurchaseImport.userErrors.map((e) => e.code)).toEqual(['IMPORT_FINISHED']);
  });

  it('a partner neither sees nor touches another partner’s import; the program’s admin sees it', async () => {
    const importId = await upload(a, [line(`mine-${randomUUID()}`, members[3]!)], { start: false });
    expect(await view(b, importId)).toBeNull();
    const chunk = await b.data<{ addPurchaseImportChunk: { userErrors: { code: string }[] } }>(CHUNK, { input: { importId, chunkNo: 2, lines: [line(`theirs-${randomUUID()}`, members[3]!)] } });
    expect(chunk.addPurchaseImportChunk.userErrors.map((e) => e.code)).toEqual(['IMPORT_NOT_FOUND']);
    const start = await b.data<{ startPurchaseImport: { userErrors: { code: string }[] } }>(START, { input: { importId, expectedLines: 1 } });
    expect(start.startPurchaseImport.userErrors.map((e) => e.code)).toEqual(['IMPORT_NOT_FOUND']);
    const cancel = await b.data<{ cancelPurchaseImport: { userErrors: { code: string }[] } }>(CANCEL, { input: { importId } });
    expect(cancel.cancelPurchaseImport.userErrors.map((e) => e.code)).toEqual(['IMPORT_NOT_FOUND']);
    expect((await view(admin, importId))!.status).toBe('UPLOADING');
    expect((await view(a, importId))!.status).toBe('UPLOADING');
  });

  it('refuses members, agents and partner keys without purchases:write; staff name a source that is not a partner’s', async () => {
    const input = { idempotencyKey: `import-${randomUUID()}` };
    const member = await sub.as({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId: members[4]!, subject: 'm-1' });
    expect(errorCodes(await member.send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await member.send(GET, { id: randomUUID() }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(AGENT)).send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(partner(partnerA, ['settlement:read']))).send(CREATE, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await admin.send(CREATE, { input }))).toEqual(['BAD_USER_INPUT']); // no source
    expect(errorCodes(await admin.send(CREATE, { input: { ...input, source: `partner:${partnerA}` } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await a.send(CREATE, { input: { ...input, source: 'till' } }))).toEqual(['BAD_USER_INPUT']);
    const staff = await admin.data<{ createPurchaseImport: { purchaseImport: { source: string } } }>(CREATE, { input: { ...input, source: 'legacy-pos' } });
    expect(staff.createPurchaseImport.purchaseImport.source).toBe('legacy-pos');
    // The same key again is the same import; with another request, a conflict.
    const replay = await admin.data<{ createPurchaseImport: { purchaseImport: { source: string } } }>(CREATE, { input: { ...input, source: 'legacy-pos' } });
    expect(replay.createPurchaseImport.purchaseImport).toEqual(staff.createPurchaseImport.purchaseImport);
    expect(errorCodes(await admin.send(CREATE, { input: { ...input, source: 'other-pos' } }))).toEqual(['CONFLICT']);
  });

  it('waits while members is unreachable (a line names its member by card), and fails an import whose chunk keeps failing', async () => {
    const { memberId: _byId, ...byCard } = { ...line(`card-${randomUUID()}`, members[5]!), member: { type: 'CARD', value: 'CARD-0001' } };
    const waiting = await upload(a, [byCard as unknown as Line]);
    // Each run reports the failure (the scheduler logs it) and leaves the chunk for the next.
    for (let i = 0; i < 7; i++) await expect(sub.runJobs()).rejects.toThrow(/members service is unavailable/);
    // Members never answered (this ledger has none): the chunk is untouched and not counted as failing.
    expect(await progressOf(waiting)).toMatchObject({ status: 'RUNNING', processed: 0 });
    const [chunk] = (await sub.db.query(`SELECT attempts, processed_at AS "processedAt" FROM purchase_import_chunks WHERE import_id = $1`, [waiting])) as { attempts: number; processedAt: Date | null }[];
    expect(chunk).toEqual({ attempts: 0, processedAt: null });
    await a.data(CANCEL, { input: { importId: waiting } });

    // A chunk whose stored lines are unreadable (an error of ours, not the partner's): retried, then FAILED.
    const broken = await upload(a, [line(`broken-${randomUUID()}`, members[5]!)]);
    await sub.db.query(`UPDATE purchase_import_chunks SET lines = '[{"transactionId": "x", "memberId": null, "basket": null}]' WHERE import_id = $1`, [broken]);
    for (let i = 0; i < 7; i++) await sub.runJobs().catch(() => undefined);
    const [failed] = (await sub.db.query(`SELECT status, failure FROM purchase_imports WHERE id = $1`, [broken])) as { status: string; failure: string }[];
    expect(failed!.status).toBe('FAILED');
    expect(failed!.failure).toContain('failed 5 times');
  });

  it('resumes after a replica is SIGKILLed mid-import: another finishes, every line recorded exactly once, the audit clean', async () => {
    const runId = randomUUID().slice(0, 8);
    const lines = Array.from({ length: 8_000 }, (_, n) => line(`crash-${runId}-${n}`, members[n % members.length]!, '5.00'));
    const importId = await upload(a, lines, { chunkSize: 500 });
    const first = worker({});
    // Killed once it has committed some chunks but not all (while it is in the middle of others).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { processed } = await progressOf(importId);
      if (processed >= 1_000) break;
      if (Date.now() > deadline) throw new Error('the first worker made no progress');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await progressOf(importId);
    expect(atKill.processed).toBeLessThan(8_000);
    // A replica arriving after the dead one's chunk leases ran out.
    const second = worker({ CLOCK_OFFSET_MS: String(5 * 60_000), EXIT_WHEN_IDLE: '1' });
    expect(await second.exited).toBe(0);
    expect(await progressOf(importId)).toMatchObject({ status: 'COMPLETED', processed: 8_000 });
    const report = (await view(a, importId))!;
    expect(report.progress).toMatchObject({ recorded: 8_000, alreadyRecorded: 0, rejected: 0 });
    const [stored] = (await sub.db.query(`SELECT count(*)::int AS rows, count(DISTINCT external_id)::int AS distinct FROM purchases WHERE source = $1 AND external_id LIKE $2`, [
      `partner:${partnerA}`,
      `crash-${runId}-%`,
    ])) as { rows: number; distinct: number }[];
    expect(stored).toEqual({ rows: 8_000, distinct: 8_000 });
    const [entries] = (await sub.db.query(`SELECT count(*)::int AS n FROM journal_entries e JOIN purchases p ON p.id = e.purchase_id WHERE p.external_id LIKE $1`, [`crash-${runId}-%`])) as { n: number }[];
    expect(entries!.n).toBe(8_000);
    expect(await checkInvariants(sub.db)).toEqual([]);
  }, 180_000);

  it('two replicas running the job at once record each line once', async () => {
    const runId = randomUUID().slice(0, 8);
    const lines = Array.from({ length: 6_000 }, (_, n) => line(`pair-${runId}-${n}`, members[n % members.length]!, '3.00'));
    const importId = await upload(a, lines, { chunkSize: 250 });
    const replicas = [worker({ EXIT_WHEN_IDLE: '1' }), worker({ EXIT_WHEN_IDLE: '1' })];
    expect(await Promise.all(replicas.map((r) => r.exited))).toEqual([0, 0]);
    // One may exit while the other still writes its last chunk: the job ends it.
    await runImports();
    expect((await view(a, importId))!.progress).toMatchObject({ total: 6_000, processed: 6_000, recorded: 6_000 });
    const [stored] = (await sub.db.query(`SELECT count(*)::int AS rows, count(DISTINCT external_id)::int AS distinct FROM purchases WHERE external_id LIKE $1`, [`pair-${runId}-%`])) as {
      rows: number;
      distinct: number;
    }[];
    expect(stored).toEqual({ rows: 6_000, distinct: 6_000 });
    expect(await checkInvariants(sub.db)).toEqual([]);
  }, 180_000);
});

describe('recordPurchases, batched', () => {
  it('holds caps across the lines of one member in one call, as if recorded one by one; pending points stay pending without lots', async () => {
    const capped = randomUUID();
    const admin2 = await sub.as({ ...ADMIN, programId: capped });
    const partner2 = await sub.as({ ...partner(partnerA), programId: capped });
    await admin2.data(`mutation($input: ConfigureLedgerInput!) { configureLedger(input: $input) { userErrors { code } } }`, { input: { programId: capped, returnWindowDays: 14 } });
    const { publishEarningRules } = await admin2.data<{ publishEarningRules: { userErrors: unknown[] } }>(
      `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code message } } }`,
      {
        input: {
          programId: capped,
          currency: 'EUR',
          basePoints: 1,
          perAmount: '1.00',
          rounding: 'FLOOR',
          caps: [{ period: 'DAY', maxPoints: 25 }],
          effectiveFrom: new Date(sub.clock.now().getTime() - DAY).toISOString(),
        },
      },
    );
    expect(publishEarningRules.userErrors).toEqual([]);
    const [m1, m2] = [await member(capped), await member(capped)];
    const at = new Date(sub.clock.now().getTime() - 60_000);
    // Interleaved: the cap is per member, and each member's lines count in input order.
    const lines = [line('cap-1', m1, '10.00', at), line('cap-2', m2, '20.00', at), line('cap-3', m1, '10.00', at), line('cap-4', m1, '10.00', at), line('cap-5', m2, '20.00', at), line('cap-6', m1, '10.00', at)];
    const { recordPurchases } = await partner2.data<{ recordPurchases: { recorded: number } }>(RECORD_MANY, { input: { lines } });
    expect(recordPurchases.recorded).toBe(6);
    const rows = (await sub.db.query(`SELECT external_id AS tx, points, posted_at AS "postedAt" FROM purchases WHERE program_id = $1 ORDER BY external_id`, [capped])) as { tx: string; points: number; postedAt: Date | null }[];
    expect(rows.map((r) => [r.tx, r.points])).toEqual([
      ['cap-1', 10],
      ['cap-2', 20],
      ['cap-3', 10],
      ['cap-4', 5],
      ['cap-5', 5],
      ['cap-6', 0],
    ]);
    expect(rows.every((r) => r.postedAt === null)).toBe(true);
    const [lots] = (await sub.db.query(`SELECT count(*)::int AS n FROM point_lots l JOIN accounts a ON a.id = l.account_id WHERE a.program_id = $1`, [capped])) as { n: number }[];
    expect(lots!.n).toBe(0);
    const balances = (await sub.db.query(`SELECT owner_id AS "memberId", pending, posted FROM accounts WHERE program_id = $1 AND kind = 'MEMBER_REWARD' ORDER BY owner_id`, [capped])) as { memberId: string; pending: string; posted: string }[];
    expect(Object.fromEntries(balances.map((b) => [b.memberId, Number(b.pending)]))).toEqual({ [m1]: 25, [m2]: 25 });

    // A later call counts what each member earned before it (read for the whole batch at once):
    // m1 and m2 are at their cap; m3 earned 20 in an earlier call and has 5 left.
    const m3 = await member(capped);
    await partner2.data(RECORD_MANY, { input: { lines: [line('cap-7', m3, '20.00', at)] } });
    await partner2.data(RECORD_MANY, { input: { lines: [line('cap-8', m1, '10.00', at), line('cap-9', m3, '10.00', at), line('cap-10', m2, '1.00', at), line('cap-11', m3, '10.00', at)] } });
    const later = (await sub.db.query(`SELECT external_id AS tx, points FROM purchases WHERE program_id = $1 AND external_id = ANY($2::text[]) ORDER BY external_id`, [
      capped,
      ['cap-7', 'cap-8', 'cap-9', 'cap-10', 'cap-11'],
    ])) as { tx: string; points: number }[];
    expect(Object.fromEntries(later.map((r) => [r.tx, r.points]))).toEqual({ 'cap-7': 20, 'cap-8': 0, 'cap-9': 5, 'cap-10': 0, 'cap-11': 0 });
    expect(await checkInvariants(sub.db)).toEqual([]);
  });
});

describe('recordPurchases, a batch failing because of one line', () => {
  it('is redone line by line: the line whose sale staff already recorded under their own key is refused, its neighbours recorded once', async () => {
    const source = `pos-${randomUUID().slice(0, 8)}`;
    const m = members[6]!;
    const { recordPurchase } = await admin.data<{ recordPurchase: { purchase: { id: string } | null } }>(
      `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code } } }`,
      { input: { idempotencyKey: `own-key-${randomUUID()}`, source, externalId: 'E1', memberId: m, basket: line('E1', m).basket } },
    );
    expect(recordPurchase.purchase).not.toBeNull();
    const bulk = `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { lines { transactionId status purchase { id } error { code field } } } }`;
    const { recordPurchases } = await admin.data<{ recordPurchases: { lines: { transactionId: string; status: string; purchase: { id: string } | null; error: { code: string; field: string } | null }[] } }>(bulk, {
      input: { source, lines: ['E0', 'E1', 'E2'].map((id) => line(id, m)) },
    });
    expect(recordPurchases.lines.map((l) => [l.transactionId, l.status, l.error])).toEqual([
      ['E0', 'RECORDED', null],
      ['E1', 'REJECTED', { code: 'PURCHASE_ALREADY_RECORDED', field: 'lines.1.transactionId' }],
      ['E2', 'RECORDED', null],
    ]);
    const rows = (await sub.db.query(`SELECT external_id AS tx, id FROM purchases WHERE source = $1 ORDER BY external_id`, [source])) as { tx: string; id: string }[];
    expect(rows.map((r) => r.tx)).toEqual(['E0', 'E1', 'E2']);
    expect(rows.find((r) => r.tx === 'E1')!.id).toBe(recordPurchase.purchase!.id);
    // The refused line left no key behind: sent again, it is refused again, not replayed.
    const again = await admin.data<{ recordPurchases: { lines: { status: string }[] } }>(bulk, { input: { source, lines: ['E0', 'E1'].map((id) => line(id, m)) } });
    expect(again.recordPurchases.lines.map((l) => l.status)).toEqual(['ALREADY_RECORDED', 'REJECTED']);
    expect(await checkInvariants(sub.db)).toEqual([]);
  });
});
