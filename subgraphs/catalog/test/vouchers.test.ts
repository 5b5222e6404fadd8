import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, DomainError, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { parseCodeKey, VoucherCipher } from '../src/domain/voucher-codes';
import { catalogSubgraph } from '../src/server';
import { VoucherService, voucherCipherFromEnv } from '../src/services/vouchers';

/**
 * Voucher code pools against real PostgreSQL: imports through the subgraph as an admin would,
 * claims as the order saga will make them (the service, inside a transaction of their own).
 */

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
let vouchers: VoucherService;

const PROGRAM = '00000000-0000-4000-8000-00000000010a';
const OTHER_PROGRAM = '00000000-0000-4000-8000-00000000010b';
const M1 = '00000000-0000-4000-8000-0000000001c1';
const M2 = '00000000-0000-4000-8000-0000000001c2';
const staffOf = (programId: string, role: 'ADMIN' | 'AGENT'): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles: [role], subject: `${role.toLowerCase()}-${programId}` });
const member = (memberId: string, programId = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: `idp|${memberId}` });

const CREATE = `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id stock { received } } userErrors { code field } } }`;
const IMPORT = `mutation($input: ImportVoucherCodesInput!) { importVoucherCodes(input: $input) {
  reward { id version stock { received available } voucherPool { total available assigned } } imported rejected { index reason masked } userErrors { code field } } }`;
const RECEIVE = `mutation($input: ReceiveRewardStockInput!) { receiveRewardStock(input: $input) { reward { id } userErrors { code field } } }`;

type ImportPayload = {
  reward: { id: string; version: number; stock: { received: number; available: number }; voucherPool: { total: number; available: number; assigned: number } } | null;
  imported: number;
  rejected: { index: number; reason: string; masked: string | null }[];
  userErrors: { code: string; field: string | null }[];
};

let keys = 0;
const key = () => `voucher-key-${++keys}`;
const details = { defaultLocale: 'en', translations: [{ locale: 'en', name: 'Car wash' }], points: 150 };
const codesOf = (n: number, prefix = 'CODE') => Array.from({ length: n }, () => `${prefix}-${randomBytes(8).toString('hex').toUpperCase()}`);

async function createReward(caller: Caller, programId: string, type = 'E_VOUCHER', stock?: number): Promise<string> {
  const { createReward } = await caller.data<{ createReward: { reward: { id: string } } }>(CREATE, { input: { idempotencyKey: key(), programId, type, stock, details } });
  return createReward.reward.id;
}

async function importCodes(rewardId: string, codes: string[], caller = admin, idempotencyKey = key()): Promise<ImportPayload> {
  return (await caller.data<{ importVoucherCodes: ImportPayload }>(IMPORT, { input: { idempotencyKey, rewardId, codes } })).importVoucherCodes;
}

/** One claim in its own transaction, as one order would make it. */
function claim(rewardId: string, memberId: string, orderLineId: string, quantity = 1) {
  return sub.db.transaction((tx) => vouchers.claimCodes(tx, { programId: PROGRAM, rewardId, memberId, orderLineId, quantity, now: sub.clock.now() }));
}

beforeAll(async () => {
  // A random key for this test process, as the subgraph reads it at start.
  process.env['CATALOG_CODE_KEY'] = randomBytes(32).toString('base64');
  sub = await startTestSubgraph(catalogSubgraph as unknown as SubgraphModule<ViewerContext>);
  admin = await sub.as(staffOf(PROGRAM, 'ADMIN'));
  vouchers = new VoucherService(sub.db, sub.clock, new VoucherCipher(parseCodeKey(process.env['CATALOG_CODE_KEY'])));
});
afterAll(async () => {
  await sub?.stop();
  delete process.env['CATALOG_CODE_KEY'];
});

describe('the key', () => {
  it('is required in production, must be base64 of 32 bytes, and is random per process (with a warning) elsewhere', () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message) };
    expect(() => voucherCipherFromEnv({ NODE_ENV: 'production' }, logger)).toThrow(/CATALOG_CODE_KEY is required in production/);
    expect(() => voucherCipherFromEnv({ NODE_ENV: 'production', CATALOG_CODE_KEY: 'c2hvcnQ=' }, logger)).toThrow(/base64 of 32/);
    const a = voucherCipherFromEnv({ NODE_ENV: 'development' }, logger);
    const b = voucherCipherFromEnv({ NODE_ENV: 'test' }, logger);
    expect(b.decrypt(a.encrypt('SAME-PROCESS', PROGRAM), PROGRAM)).toBe('SAME-PROCESS');
    // Once per process, when its key is made.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unreadable after a restart/);
  });
});

describe('importVoucherCodes', () => {
  it('imports codes, reports invalid ones, repeats in the file and codes already in the pool by index, and adds exactly the imported to stock', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const [a, b, c] = codesOf(3);
    const first = await importCodes(rewardId, [a!, `  ${b!}  `, 'abc', a!.toLowerCase(), c!]);
    expect(first.userErrors).toEqual([]);
    expect(first.imported).toBe(3);
    expect(first.rejected).toEqual([
      { index: 2, reason: 'INVALID', masked: null },
      { index: 3, reason: 'DUPLICATE_IN_FILE', masked: `••••••${a!.toLowerCase().slice(-4)}` },
    ]);
    expect(first.reward!.stock.received).toBe(3);
    expect(first.reward!.voucherPool).toEqual({ total: 3, available: 3, assigned: 0 });

    const [d] = codesOf(1);
    const second = await importCodes(rewardId, [d!, b!, 'x'.repeat(65), c!]);
    expect(second.imported).toBe(1);
    expect(second.rejected).toEqual([
      { index: 1, reason: 'ALREADY_IN_POOL', masked: `••••••${b!.slice(-4)}` },
      { index: 2, reason: 'INVALID', masked: null },
      { index: 3, reason: 'ALREADY_IN_POOL', masked: `••••••${c!.slice(-4)}` },
    ]);
    const [row] = (await sub.db.query(`SELECT r.stock_received AS received, (SELECT count(*)::int FROM voucher_codes v WHERE v.reward_id = r.id) AS codes FROM rewards r WHERE r.id = $1`, [
      rewardId,
    ])) as { received: number; codes: number }[];
    expect(row).toEqual({ received: 4, codes: 4 });
    const versions = (await sub.db.query(`SELECT change, snapshot->>'stockReceived' AS received FROM reward_versions WHERE reward_id = $1 ORDER BY version`, [rewardId])) as unknown[];
    expect(versions).toEqual([
      { change: 'CREATED', received: '0' },
      { change: 'STOCK_RECEIVED', received: '3' },
      { change: 'STOCK_RECEIVED', received: '4' },
    ]);
  });

  it('is once per key: a retry replays the report, the same key with other codes is CONFLICT', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const codes = codesOf(5);
    const idempotencyKey = key();
    const [one, two] = await Promise.all([importCodes(rewardId, codes, admin, idempotencyKey), importCodes(rewardId, codes, admin, idempotencyKey)]);
    expect(one.imported).toBe(5);
    expect(two.imported).toBe(5);
    expect(two.rejected).toEqual([]);
    const [row] = (await sub.db.query(`SELECT stock_received AS received FROM rewards WHERE id = $1`, [rewardId])) as { received: number }[];
    expect(row!.received).toBe(5);
    expect(errorCodes(await admin.send(IMPORT, { input: { idempotencyKey, rewardId, codes: codesOf(5) } }))).toEqual(['CONFLICT']);
  });

  it('dedupes across the program’s rewards, not across programs; concurrent imports of the same codes take each once', async () => {
    const one = await createReward(admin, PROGRAM);
    const two = await createReward(admin, PROGRAM);
    const otherAdmin = await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'));
    const foreign = await createReward(otherAdmin, OTHER_PROGRAM);
    const codes = codesOf(200);
    const [x, y] = await Promise.all([importCodes(one, codes), importCodes(two, codes)]);
    expect(x.imported + y.imported).toBe(200);
    expect(x.rejected.length + y.rejected.length).toBe(200);
    expect(new Set([...x.rejected, ...y.rejected].map((r) => r.reason))).toEqual(new Set(['ALREADY_IN_POOL']));
    const elsewhere = await importCodes(foreign, codes.slice(0, 10), otherAdmin);
    expect(elsewhere.imported).toBe(10);
    const counts = (await sub.db.query(`SELECT reward_id AS "rewardId", count(*)::int AS n, max(r.stock_received) AS received FROM voucher_codes v JOIN rewards r ON r.id = v.reward_id WHERE reward_id = ANY($1::uuid[]) GROUP BY reward_id`, [
      [one, two],
    ])) as { n: number; received: number }[];
    for (const c of counts) expect(c.n).toBe(c.received);
  });

  it('refuses another program’s reward (FORBIDDEN), an agent (FORBIDDEN), other types and retired rewards (userErrors), and malformed input (BAD_USER_INPUT)', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const otherAdmin = await sub.as(staffOf(OTHER_PROGRAM, 'ADMIN'));
    expect(errorCodes(await otherAdmin.send(IMPORT, { input: { idempotencyKey: key(), rewardId, codes: codesOf(1) } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staffOf(PROGRAM, 'AGENT'))).send(IMPORT, { input: { idempotencyKey: key(), rewardId, codes: codesOf(1) } }))).toEqual(['FORBIDDEN']);

    const physical = await createReward(admin, PROGRAM, 'PHYSICAL', 10);
    const refused = await importCodes(physical, codesOf(1));
    expect(refused).toMatchObject({ reward: null, imported: 0, rejected: [], userErrors: [{ code: 'NOT_E_VOUCHER', field: 'rewardId' }] });
    expect(((await sub.db.query(`SELECT count(*)::int AS n FROM voucher_codes WHERE reward_id = $1`, [physical])) as { n: number }[])[0]!.n).toBe(0);

    await admin.data(`mutation($input: RetireRewardInput!) { retireReward(input: $input) { userErrors { code } } }`, { input: { rewardId } });
    expect((await importCodes(rewardId, codesOf(2))).userErrors).toEqual([{ code: 'REWARD_RETIRED', field: 'rewardId' }]);
    expect(((await sub.db.query(`SELECT count(*)::int AS n FROM voucher_codes WHERE reward_id = $1`, [rewardId])) as { n: number }[])[0]!.n).toBe(0);

    const tooMany = await admin.send(IMPORT, { input: { idempotencyKey: key(), rewardId, codes: [] } });
    expect(errorCodes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors![0]!.extensions!['field']).toBe('codes');
  });

  it('is the only way stock comes to an E_VOUCHER: creation with stock and receiveRewardStock are refused', async () => {
    const withStock = await admin.send(CREATE, { input: { idempotencyKey: key(), programId: PROGRAM, type: 'E_VOUCHER', stock: 5, details } });
    expect(errorCodes(withStock)).toEqual(['BAD_USER_INPUT']);
    expect(withStock.errors![0]!.extensions!['field']).toBe('stock');
    const { createReward } = await admin.data<{ createReward: { reward: { id: string; stock: { received: number } } } }>(CREATE, {
      input: { idempotencyKey: key(), programId: PROGRAM, type: 'E_VOUCHER', details },
    });
    expect(createReward.reward.stock).toEqual({ received: 0 });
    const received = await admin.data<{ receiveRewardStock: unknown }>(RECEIVE, { input: { idempotencyKey: key(), rewardId: createReward.reward.id, units: 3 } });
    expect(received.receiveRewardStock).toEqual({ reward: null, userErrors: [{ code: 'STOCK_FROM_CODES', field: 'rewardId' }] });
    await expect(sub.db.query(`UPDATE rewards SET stock_received = NULL WHERE id = $1`, [createReward.reward.id])).rejects.toThrow(/rewards_e_voucher_counted/);
  });
});

describe('codes at rest', () => {
  it('are never stored in clear: not in the codes’ pages on disk, nor in the import’s key or the reward’s versions', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const codes = codesOf(20, 'CLEARTEXT');
    await importCodes(rewardId, codes);
    await sub.db.query(`CHECKPOINT`);
    for (const table of ['voucher_codes', 'idempotency_keys', 'reward_versions']) {
      const [{ bytes }] = (await sub.db.query(`SELECT pg_read_binary_file(pg_relation_filepath($1::regclass)) AS bytes`, [table])) as [{ bytes: Buffer }];
      expect(bytes.length, table).toBeGreaterThan(0);
      for (const code of codes) expect(bytes.includes(Buffer.from(code)), `${code} in ${table}`).toBe(false);
      expect(bytes.includes(Buffer.from('CLEARTEXT')), table).toBe(false);
    }
    // The rows as text (bytea as hex) hold neither the code nor its hex.
    const rows = ((await sub.db.query(`SELECT v::text AS row FROM voucher_codes v WHERE reward_id = $1`, [rewardId])) as { row: string }[]).map((r) => r.row).join('\n');
    expect(rows).toContain(codes[0]!.slice(-4));
    for (const code of codes) {
      expect(rows).not.toContain(code.slice(0, -4));
      expect(rows).not.toContain(Buffer.from(code).toString('hex'));
    }
  });
});

describe('claimCodes', () => {
  it('issues 500 codes to 1,000 concurrent claims exactly once: 500 succeed, 500 are OUT_OF_CODES', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const imported = await importCodes(rewardId, codesOf(500));
    expect(imported.imported).toBe(500);
    const lines = Array.from({ length: 1_000 }, () => randomUUID());
    const results = await Promise.allSettled(lines.map((line, i) => claim(rewardId, i % 2 ? M1 : M2, line)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(500);
    expect(lost).toHaveLength(500);
    for (const failure of lost) expect(failure.reason).toMatchObject({ code: 'OUT_OF_CODES' });
    expect(lost[0]!.reason).toBeInstanceOf(DomainError);

    const [counts] = (await sub.db.query(
      `SELECT count(*)::int AS assigned, count(DISTINCT id)::int AS codes, count(DISTINCT order_line_id)::int AS lines,
         count(*) FILTER (WHERE status = 'AVAILABLE')::int AS available
       FROM voucher_codes WHERE reward_id = $1 AND (status = 'ASSIGNED' OR status = 'AVAILABLE')`,
      [rewardId],
    )) as { assigned: number; codes: number; lines: number; available: number }[];
    expect(counts).toEqual({ assigned: 500, codes: 500, lines: 500, available: 0 });
    // No code twice, no line with two: every winning line has exactly its one code.
    const twice = (await sub.db.query(`SELECT order_line_id FROM voucher_codes WHERE reward_id = $1 GROUP BY order_line_id HAVING count(*) > 1`, [rewardId])) as unknown[];
    expect(twice).toEqual([]);
    const winners = lines.filter((_, i) => results[i]!.status === 'fulfilled');
    const [{ n }] = (await sub.db.query(`SELECT count(*)::int AS n FROM voucher_codes WHERE order_line_id = ANY($1::uuid[]) AND unit = 1`, [winners])) as [{ n: number }];
    expect(n).toBe(500);
    const losers = lines.filter((_, i) => results[i]!.status === 'rejected');
    const [{ none }] = (await sub.db.query(`SELECT count(*)::int AS none FROM voucher_codes WHERE order_line_id = ANY($1::uuid[])`, [losers])) as [{ none: number }];
    expect(none).toBe(0);
  }, 120_000);

  it('returns the same codes when called again for a line, issues one per unit, and rolls back with the caller', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    await importCodes(rewardId, codesOf(5));
    const line = randomUUID();
    const first = await claim(rewardId, M1, line, 2);
    expect(first.map((c) => c.unit)).toEqual([1, 2]);
    const again = await claim(rewardId, M1, line, 2);
    expect(again).toEqual(first);
    await expect(claim(rewardId, M2, line, 2)).rejects.toMatchObject({ code: 'CODES_ALREADY_CLAIMED' });
    // Three left: asking for four takes none (the failed claim's transaction rolled back).
    await expect(claim(rewardId, M1, randomUUID(), 4)).rejects.toMatchObject({ code: 'OUT_OF_CODES' });
    const [{ available }] = (await sub.db.query(`SELECT count(*)::int AS available FROM voucher_codes WHERE reward_id = $1 AND status = 'AVAILABLE'`, [rewardId])) as [{ available: number }];
    expect(available).toBe(3);
    // The database refuses a second code for a line's unit and an assigned code without its member.
    const [spare] = (await sub.db.query(`SELECT id FROM voucher_codes WHERE reward_id = $1 AND status = 'AVAILABLE' LIMIT 1`, [rewardId])) as { id: string }[];
    await expect(
      sub.db.query(`UPDATE voucher_codes SET status = 'ASSIGNED', assigned_to_member_id = $2, order_line_id = $3, unit = 1, assigned_at = now() WHERE id = $1`, [spare!.id, M1, line]),
    ).rejects.toThrow(/voucher_codes_line_unit/);
    await expect(sub.db.query(`UPDATE voucher_codes SET status = 'ASSIGNED' WHERE id = $1`, [spare!.id])).rejects.toThrow(/voucher_codes_assignment/);
  });
});

describe('reading issued codes', () => {
  it('shows the whole code to its member only: staff see it masked, another member sees null', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    const codes = codesOf(3);
    await importCodes(rewardId, codes);
    const [mine, theirs] = [randomUUID(), randomUUID()];
    await claim(rewardId, M1, mine);
    await claim(rewardId, M2, theirs);
    const [owned] = await vouchers.codesOfLine(sub.db, mine);
    expect(codes).toContain(owned!.code);
    expect(owned).toMatchObject({ unit: 1, memberId: M1 });

    const masked = `••••••${owned!.code.slice(-4)}`;
    const asOwner = await vouchers.codesForLines([mine, theirs], member(M1));
    expect(asOwner.get(mine)).toEqual([{ id: owned!.id, unit: 1, masked, code: owned!.code, assignedAt: owned!.assignedAt }]);
    expect(asOwner.get(theirs)![0]!.code).toBeNull();
    for (const viewer of [staffOf(PROGRAM, 'ADMIN'), staffOf(PROGRAM, 'AGENT'), member(M2), member(M1, OTHER_PROGRAM)]) {
      const seen = await vouchers.codesForLines([mine], viewer);
      expect(seen.get(mine)).toEqual([{ id: owned!.id, unit: 1, masked, code: null, assignedAt: owned!.assignedAt }]);
    }
    expect((await vouchers.codesForLines([randomUUID()], member(M1))).values().next().value).toEqual([]);
  });

  it('gives staff the pool’s counts in one statement per request, and nothing for other types', async () => {
    const rewardId = await createReward(admin, PROGRAM);
    await importCodes(rewardId, codesOf(4));
    await claim(rewardId, M1, randomUUID());
    const physical = await createReward(admin, PROGRAM, 'PHYSICAL', 3);
    const agent = await sub.as(staffOf(PROGRAM, 'AGENT'));
    const query = `query($a: ID!, $b: ID!) { a: reward(id: $a) { voucherPool { total available assigned } stock { received } } b: reward(id: $b) { voucherPool { total } } }`;
    const read = await agent.data<{ a: unknown; b: unknown }>(query, { a: rewardId, b: physical });
    expect(read).toEqual({ a: { voucherPool: { total: 4, available: 3, assigned: 1 }, stock: { received: 4 } }, b: { voucherPool: null } });
  });
});
