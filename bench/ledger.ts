import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from '@loyalty-graph/shared/db';
import { runHarness } from '../subgraphs/ledger/test/harness';
import { load, mean, type LoadResult } from './lib';
import { caughtUp, graphql, startStack } from './stack';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const HARNESS_OPERATIONS = Number(process.env['BENCH_HARNESS_OPERATIONS'] ?? 5000);

const RECORD = `mutation Record($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code } } }`;

/**
 * recordPurchase through the gateway, on a hot profile (10 members) and a cold one (10,000),
 * beside a raw-SQL baseline that makes the same journal writes in the same run; then the
 * concurrency harness's long profile (chaos included). Every service runs its production bundle.
 */
export async function ledgerScenario(): Promise<Record<string, unknown>> {
  const stack = await startStack({ members: 10_000 });
  const { serverUrl, gatewayUrl, memberIds, tokens } = stack;
  const program = { id: stack.programId };
  try {
    const admin = { authorization: `Bearer ${await tokens.staff({ programId: program.id, roles: ['ADMIN'], subject: 'bench-admin' })}` };
    const agent = { authorization: `Bearer ${await tokens.staff({ programId: program.id, roles: ['AGENT'], subject: 'bench-agent' })}` };
    await graphql(gatewayUrl, admin, `mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR, multipliers: [{ dimension: CATEGORY, value: "fuel", factor: "2" }] }) { ruleSet { version } } }`, { p: program.id });

    const ledgerUrl = databaseUrl(serverUrl, 'ledger');
    const events = { members: new pg.Client({ connectionString: databaseUrl(serverUrl, 'members') }), ledger: new pg.Client({ connectionString: ledgerUrl }) };
    await events.members.connect();
    await events.ledger.connect();
    const profiles = { hot: memberIds.slice(0, 10), cold: memberIds };
    const results: Record<string, { graph: LoadResult[]; raw: LoadResult[] }> = {};
    for (const [name, ids] of Object.entries(profiles)) {
      const sample = await graphql(gatewayUrl, agent, RECORD, { input: purchaseInput(ids, 0) });
      if (!(sample as { recordPurchase?: { purchase?: { id: string } } }).recordPurchase?.purchase?.id) throw new Error(`recordPurchase failed: ${JSON.stringify(sample)}`);
      results[name] = { graph: [], raw: [] };
      for (let round = 0; round < ROUNDS; round++) {
        let n = 0;
        // Each round starts with members caught up on the ledger's events (the last round's backlog
        // would otherwise be worked off during this one, and slow whichever side comes next).
        await caughtUp(events.members, events.ledger, 120_000);
        const graphResult = await load({ url: gatewayUrl, headers: agent, connections: CONNECTIONS, seconds: SECONDS, bodies: [], body: () => JSON.stringify({ query: RECORD, variables: { input: purchaseInput(ids, ++n) } }) });
        await caughtUp(events.members, events.ledger, 120_000);
        const rawResult = await rawBaseline(ledgerUrl, program.id, ids, CONNECTIONS, SECONDS);
        results[name]!.graph.push(graphResult);
        results[name]!.raw.push(rawResult);
        console.log(`${name} round ${round + 1}: graph ${graphResult.requestsPerSecond}/s (p99 ${graphResult.latencyP99Ms} ms, ${graphResult.non2xx + graphResult.errors} failed), raw SQL ${rawResult.requestsPerSecond}/s (p99 ${rawResult.latencyP99Ms} ms)`);
      }
    }
    await events.members.end();
    await events.ledger.end();
    const audit = await auditLedger(ledgerUrl);
    const summary = Object.fromEntries(
      Object.entries(results).map(([name, r]) => {
        const graphRps = mean(r.graph.map((x) => x.requestsPerSecond));
        const rawRps = mean(r.raw.map((x) => x.requestsPerSecond));
        return [name, { graph: { accrualsPerSecond: graphRps, p99Ms: mean(r.graph.map((x) => x.latencyP99Ms)), failed: r.graph.reduce((s, x) => s + x.errors + x.non2xx, 0) }, rawSql: { accrualsPerSecond: rawRps, p99Ms: mean(r.raw.map((x) => x.latencyP99Ms)) }, graphToRawRatio: Number((graphRps / rawRps).toFixed(3)), rounds: r }];
      }),
    );

    await stack.stopServices();
    console.log(`concurrency harness: ${HARNESS_OPERATIONS} operations per profile, 16 workers, chaos every 25 ms`);
    const harness = [];
    for (const profile of [
      { name: 'hot', accounts: 10 },
      { name: 'cold', accounts: 10_000 },
    ]) {
      const report = await runHarness(serverUrl, { ...profile, workers: 16, operations: HARNESS_OPERATIONS, duplicateRate: 0.1, chaosEveryMs: 25, strategy: 'correct', seed: Date.now() % 100_000 });
      console.log(`harness ${profile.name}: ${report.operationsPerSecond} ops/s, ${report.backendsKilled} backends killed, ${report.retries} client retries, ${report.violations.length} violations`);
      harness.push(report);
    }
    const broken = await runHarness(serverUrl, { name: 'broken', accounts: 10, workers: 16, operations: 1000, duplicateRate: 0.3, chaosEveryMs: 25, strategy: 'broken', seed: 7 });
    console.log(`broken strategy: the audit reported ${broken.violations.length} violations (it must report some)`);

    return {
      connections: CONNECTIONS,
      secondsPerRound: SECONDS,
      recordPurchase: summary,
      aim: 'graph ≥ 40% of the raw-SQL rate on the cold profile',
      aimMet: (summary['cold'] as { graphToRawRatio: number }).graphToRawRatio >= 0.4,
      auditAfterLoad: audit,
      harness: harness.map((r) => ({ ...r, violations: r.violations.slice(0, 10) })),
      brokenStrategyCaught: broken.violations.length > 0,
      brokenStrategyViolations: broken.violations.slice(0, 5),
      note: 'Load generator, gateway, subgraphs and PostgreSQL share the same 2 cores.',
    };
  } finally {
    await stack.stop();
  }
}

function purchaseInput(memberIds: string[], n: number) {
  const id = randomUUID();
  return {
    idempotencyKey: `bench-${id}`,
    memberId: memberIds[n % memberIds.length],
    source: 'bench',
    externalId: id,
    basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'DIESEL', category: 'fuel', quantity: 1, amount: '42.50' }, { lineId: '2', sku: 'COFFEE', category: 'food', quantity: 1, amount: '3.20' }] },
  };
}

/**
 * The same statements as recordPurchase, straight over pg with no GraphQL, HTTP or service layer:
 * key claim, member accounts (lock; create when missing), entry, lines (the same triggers fire),
 * outbox event, purchase row, key result. Points are computed in-process.
 */
async function rawBaseline(ledgerUrl: string, programId: string, memberIds: string[], connections: number, seconds: number): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: ledgerUrl, max: connections });
  const [issuance] = (await pool.query(`SELECT id FROM accounts WHERE program_id = $1 AND kind = 'ISSUANCE'`, [programId])).rows as { id: string }[];
  const [statusIssuance] = (await pool.query(`SELECT id FROM accounts WHERE program_id = $1 AND kind = 'STATUS_ISSUANCE'`, [programId])).rows as { id: string }[];
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const memberId = memberIds[n++ % memberIds.length]!;
      const id = randomUUID();
      const started = performance.now();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`INSERT INTO idempotency_keys (program_id, key, operation, request_hash, result, created_at) VALUES ($1, $2, 'recordPurchase', 'raw', 'null', now())`, [programId, `raw-${id}`]);
        // As the ledger does: lock the member's accounts, create them first only when missing.
        const lock = async () => (await client.query(`SELECT id, kind FROM accounts WHERE program_id = $1 AND owner_id = $2 ORDER BY id FOR UPDATE`, [programId, memberId])).rows as { id: string; kind: string }[];
        let accounts = await lock();
        if (accounts.length < 2) {
          await client.query(
            `INSERT INTO accounts (program_id, kind, owner_id, allow_negative, tracks_balance) VALUES ($1, 'MEMBER_REWARD', $2, false, true), ($1, 'MEMBER_STATUS', $2, false, true) ON CONFLICT DO NOTHING`,
            [programId, memberId],
          );
          accounts = await lock();
        }
        const reward = accounts.find((a) => a.kind === 'MEMBER_REWARD')!.id;
        const status = accounts.find((a) => a.kind === 'MEMBER_STATUS')!.id;
        const entryId = randomUUID();
        const purchase = { id: randomUUID() };
        await client.query(`INSERT INTO journal_entries (id, program_id, kind, member_id, member_amount, purchase_id, created_at) VALUES ($1, $2, 'ACCRUAL', $3, 88, $4, now())`, [entryId, programId, memberId, purchase.id]);
        await client.query(
          `INSERT INTO journal_lines (entry_id, account_id, bucket, amount, entry_kind) SELECT $1, a, 'PENDING', amt, 'ACCRUAL' FROM unnest($2::uuid[], $3::bigint[]) AS t(a, amt)`,
          [entryId, [reward, issuance!.id, status, statusIssuance!.id], [88, -88, 88, -88]],
        );
        // The same event as recordPurchase writes: members applies it like any other (a malformed one would be dead-lettered).
        const payload = { programId, memberId, purchaseId: purchase.id, points: 88, statusPoints: 88, pending: true, occurredAt: new Date().toISOString(), entryId };
        // entry_id is derived from the payload by PostgreSQL, as for the ledger's own events.
        await client.query(`INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at) VALUES ('Member', $1, 'PointsAccrued', 1, $2, now())`, [
          memberId,
          JSON.stringify(payload),
        ]);
        await client.query(
          `INSERT INTO purchases (id, program_id, member_id, source, external_id, channel, currency, total, points, status_points, lines, rule_set_version, occurred_at, posts_at, accrual_entry_id, created_at)
           VALUES ($1, $2, $3, 'raw', $4, 'STORE', 'EUR', 45.70, 88, 88, '[]', 1, now(), now() + interval '14 days', $5, now())`,
          [purchase.id, programId, memberId, id, entryId],
        );
        await client.query(`UPDATE idempotency_keys SET result = $3 WHERE program_id = $1 AND key = $2`, [programId, `raw-${id}`, JSON.stringify({ purchaseId: purchase.id, entryId })]);
        await client.query('COMMIT');
        latencies.push(performance.now() - started);
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.end();
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: Math.round(latencies.length / seconds),
    latencyP50Ms: Math.round(latencies[Math.floor(latencies.length * 0.5)] ?? 0),
    latencyP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
    requests: latencies.length,
    errors: 0,
    non2xx: 0,
  };
}

async function auditLedger(ledgerUrl: string): Promise<{ violations: string[] }> {
  const { checkInvariants } = await import('../subgraphs/ledger/src/audit');
  const pool = new pg.Pool({ connectionString: ledgerUrl, max: 2 });
  try {
    const violations = await checkInvariants({ query: async (sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows });
    return { violations: violations.slice(0, 10) };
  } finally {
    await pool.end();
  }
}
