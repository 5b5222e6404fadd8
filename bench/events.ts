import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from '@loyalty-graph/shared/db';
import { load } from './lib';
import { graphql, startStack } from './stack';

const RATE = Number(process.env['BENCH_RATE'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

const RECORD = `mutation Record($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code } } }`;

/**
 * How fast a ledger event becomes a tier change in members, on the production bundles:
 *  1. steady load: RATE recordPurchase/s through the gateway for SECONDS, each a member's first
 *     purchase, big enough to reach Silver; the delay of each upgrade is the tier change's time in
 *     members minus the accrual's outbox time in the ledger (taken before the ledger's commit, so
 *     the figure slightly overstates the delay), p50/p99 over all of them; also the delivery delay
 *     of every event (the consumer's processed time minus the outbox time);
 *  2. throughput: members is stopped, its projection emptied and its consumer rewound (a rebuild),
 *     then started again; the rate at which it works through the whole backlog is the delivery
 *     throughput the relay and one consumer sustain.
 */
export async function eventsScenario(): Promise<Record<string, unknown>> {
  const members = Math.ceil(RATE * SECONDS * 1.3) + 100;
  const stack = await startStack({ members });
  const membersDb = new pg.Client({ connectionString: databaseUrl(stack.serverUrl, 'members') });
  const ledgerDb = new pg.Client({ connectionString: databaseUrl(stack.serverUrl, 'ledger') });
  await membersDb.connect();
  await ledgerDb.connect();
  try {
    const admin = { authorization: `Bearer ${await stack.tokens.staff({ programId: stack.programId, roles: ['ADMIN'], subject: 'bench-admin' })}` };
    const agent = { authorization: `Bearer ${await stack.tokens.staff({ programId: stack.programId, roles: ['AGENT'], subject: 'bench-agent' })}` };
    await graphql(stack.gatewayUrl, admin, `mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR }) { ruleSet { version } } }`, { p: stack.programId });
    // Everyone starts in Bronze, so each first purchase of 1,200 status points is an upgrade to Silver (1,000).
    await membersDb.query(`UPDATE members SET tier_id = (SELECT id FROM tiers WHERE program_id = $1 AND rank = 0) WHERE program_id = $1`, [stack.programId]);

    let n = 0;
    console.log(`steady load: ${RATE} accruals/s for ${SECONDS} s through the gateway`);
    const steady = await load({
      url: stack.gatewayUrl,
      headers: agent,
      connections: CONNECTIONS,
      seconds: SECONDS,
      rate: RATE,
      bodies: [],
      body: () => JSON.stringify({ query: RECORD, variables: { input: purchase(stack.memberIds[n++ % stack.memberIds.length]!) } }),
    });
    console.log(`sent ${steady.requests} (${steady.requestsPerSecond}/s, p99 ${steady.latencyP99Ms} ms, ${steady.errors + steady.non2xx} failed)`);
    await caughtUp(membersDb, ledgerDb, 60_000);

    const upgrades = (
      await membersDb.query(
        `SELECT extract(epoch FROM t.changed_at) * 1000 AS at, t.member_id FROM tier_changes t JOIN members m ON m.id = t.member_id WHERE m.program_id = $1 AND t.reason_code = 'QUALIFIED'`,
        [stack.programId],
      )
    ).rows as { at: string; member_id: string }[];
    const accruals = new Map(
      ((await ledgerDb.query(`SELECT aggregate_id, extract(epoch FROM created_at) * 1000 AS at FROM outbox WHERE event_type = 'PointsAccrued'`)).rows as { aggregate_id: string; at: string }[]).map((r) => [r.aggregate_id, Number(r.at)]),
    );
    const tierDelays = upgrades.map((u) => Number(u.at) - accruals.get(u.member_id)!).filter((d) => Number.isFinite(d));
    const outbox = new Map(((await ledgerDb.query(`SELECT event_id, extract(epoch FROM created_at) * 1000 AS at FROM outbox`)).rows as { event_id: string; at: string }[]).map((r) => [r.event_id, Number(r.at)]));
    const processed = (await membersDb.query(`SELECT event_id, extract(epoch FROM processed_at) * 1000 AS at FROM processed_events`)).rows as { event_id: string; at: string }[];
    const deliveryDelays = processed.map((p) => Number(p.at) - outbox.get(p.event_id)!).filter((d) => Number.isFinite(d));
    const accepted = steady.requests - steady.errors - steady.non2xx;
    console.log(`tier changes: ${upgrades.length} of ${accepted} accruals; delay p50 ${percentile(tierDelays, 50)} ms, p99 ${percentile(tierDelays, 99)} ms`);

    // Throughput: the whole backlog again, from position 0, with the real work of each event.
    const backlog = Number((await ledgerDb.query(`SELECT count(*) FROM outbox`)).rows[0].count);
    await stack.stopSubgraph('members');
    await membersDb.query(`BEGIN`);
    await membersDb.query(`DELETE FROM processed_events`);
    await membersDb.query(`DELETE FROM member_status_points`);
    await membersDb.query(`DELETE FROM purchase_periods`);
    await membersDb.query(`UPDATE members SET tier_id = (SELECT id FROM tiers WHERE program_id = $1 AND rank = 0) WHERE program_id = $1`, [stack.programId]);
    await membersDb.query(`UPDATE event_consumers SET position = 0`);
    await membersDb.query(`COMMIT`);
    await stack.startSubgraph('members');
    const started = Date.now();
    const drained = await caughtUp(membersDb, ledgerDb, 180_000);
    const seconds = (drained - started) / 1000;
    const throughput = Math.round(backlog / seconds);
    console.log(`rebuild: ${backlog} events applied in ${seconds.toFixed(1)} s after restart: ${throughput} events/s`);

    return {
      steadyLoad: { targetAccrualsPerSecond: RATE, seconds: SECONDS, sent: steady.requests, accrualsPerSecond: steady.requestsPerSecond, failed: steady.errors + steady.non2xx, recordPurchaseP99Ms: steady.latencyP99Ms },
      tierChangeDelayMs: { count: tierDelays.length, expected: accepted, p50: percentile(tierDelays, 50), p99: percentile(tierDelays, 99), max: Math.round(Math.max(...tierDelays)) },
      eventDeliveryDelayMs: { count: deliveryDelays.length, p50: percentile(deliveryDelays, 50), p99: percentile(deliveryDelays, 99) },
      rebuildThroughput: { events: backlog, seconds: Number(seconds.toFixed(2)), eventsPerSecond: throughput },
      aim: 'tier change p99 under 1 s at 200 accruals/s',
      aimMet: tierDelays.length === accepted && percentile(tierDelays, 99) < 1000,
      note: 'Load generator, gateway, subgraphs and PostgreSQL share the same 2 cores. The rebuild figure includes each event’s tier evaluation and its TierChanged event.',
    };
  } finally {
    await membersDb.end();
    await ledgerDb.end();
    await stack.stop();
  }
}

function purchase(memberId: string) {
  const id = randomUUID();
  return {
    idempotencyKey: `bench-${id}`,
    memberId,
    source: 'bench',
    externalId: id,
    basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'TV', category: 'electronics', quantity: 1, amount: '1200.00' }] },
  };
}

/** Waits until members has applied everything the ledger has numbered and nothing waits to be numbered; returns when. */
async function caughtUp(membersDb: pg.Client, ledgerDb: pg.Client, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const head = (await ledgerDb.query(`SELECT coalesce(max(position), 0)::bigint AS head, count(*) FILTER (WHERE position IS NULL) AS waiting FROM outbox`)).rows[0] as { head: string; waiting: string };
    const consumer = (await membersDb.query(`SELECT position FROM event_consumers WHERE name = 'members.ledger-events'`)).rows[0] as { position: string } | undefined;
    if (consumer && Number(head.waiting) === 0 && Number(consumer.position) >= Number(head.head)) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('members did not catch up with the ledger in time');
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}
