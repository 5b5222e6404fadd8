import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from '@loyalty-graph/shared/db';
import { cpuBetween, cpuSeconds, load } from './lib';
import { caughtUp, consumerCaughtUp, graphql, startStack, type BenchStack } from './stack';

const RATES = (process.env['BENCH_RATES'] ?? '50,100,150,200').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
// autocannon paces each connection at rate ÷ connections, in whole requests per second.
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const AIM = { rate: 200, p99Ms: 1000 };
/** Suspensions an agent makes per second during each load, to time how soon the ledger refuses the member. */
const SUSPENSIONS_PER_SECOND = Number(process.env['BENCH_SUSPENSIONS'] ?? 4);

const RECORD = `mutation Record($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code } } }`;
const SUSPEND = `mutation Suspend($id: ID!) { changeMemberStatus(input: { memberId: $id, status: SUSPENDED, reason: "bench" }) { member { status } userErrors { code } } }`;

/**
 * How fast a ledger event becomes a tier change in members, on the production bundles.
 *  1. Steady loads of recordPurchase through the gateway, one rate after another (side by side in
 *     one run: this machine is shared and noisy). Each purchase is a member's first and worth
 *     1,200 status points, so each is an upgrade to Silver. The delay of an upgrade is from the
 *     accrual's commit in the ledger to the tier change's commit in members (PostgreSQL's commit
 *     timestamps); also the part of it until the ledger's sequencer numbered the event, and the
 *     CPU each process used per accrual.
 *     Meanwhile an agent suspends other members (4/s): the delay from the suspension's commit in
 *     members to the commit that makes the ledger's member snapshot say SUSPENDED, from when the
 *     ledger refuses the member's purchases.
 *  2. Throughput: members is stopped, its projection emptied and its consumer rewound (a rebuild),
 *     then started again; the rate at which it works through the whole backlog is the delivery
 *     throughput the feed and one consumer sustain.
 */
export async function eventsScenario(): Promise<Record<string, unknown>> {
  const members = Math.ceil(RATES.reduce((sum, rate) => sum + rate, 0) * SECONDS * 1.2) + 100;
  const stack = await startStack({ members, postgresSettings: { track_commit_timestamp: 'on' } });
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

    let next = 0;
    // Suspended members come from the end of the list; purchases from the start never reach them.
    const spare = [...stack.memberIds].reverse();
    const steady = [];
    for (const rate of RATES) {
      const used = new Set<string>();
      const cpuBefore = cpuSeconds(stack.pids());
      const suspending = suspendWhileLoading(stack.gatewayUrl, agent, () => spare.shift()!);
      const sent = await load({
        url: stack.gatewayUrl,
        headers: agent,
        connections: CONNECTIONS,
        seconds: SECONDS,
        rate,
        bodies: [],
        body: () => {
          const memberId = stack.memberIds[next++ % stack.memberIds.length]!;
          used.add(memberId);
          return JSON.stringify({ query: RECORD, variables: { input: purchase(memberId) } });
        },
      });
      const suspended = await suspending.stop();
      // autocannon stops counting at the deadline; requests still in flight complete after it.
      await settled(ledgerDb, used, 30_000);
      await caughtUp(membersDb, ledgerDb, 120_000);
      await consumerCaughtUp(ledgerDb, 'ledger.members-events', membersDb, 120_000);
      const refusals = await refusalDelays(membersDb, ledgerDb, suspended);
      const cpu = cpuBetween(cpuBefore, cpuSeconds(stack.pids()));
      const delays = await upgradeDelays(stack, membersDb, ledgerDb, used);
      const accepted = used.size - sent.errors - sent.non2xx;
      const phase = {
        targetAccrualsPerSecond: rate,
        accrualsPerSecond: sent.requestsPerSecond,
        failed: sent.errors + sent.non2xx,
        recordPurchaseP99Ms: sent.latencyP99Ms,
        accruals: accepted,
        tierChanges: delays.total.length,
        /** Accruals whose upgrade never showed up in members (must be 0). */
        missingTierChanges: delays.missing,
        tierChangeDelayMs: { p50: percentile(delays.total, 50), p99: percentile(delays.total, 99), max: Math.round(Math.max(...delays.total)) },
        untilSequencedMs: { p50: percentile(delays.sequencing, 50), p99: percentile(delays.sequencing, 99) },
        suspensions: suspended.length,
        /** Suspensions the ledger's snapshot never showed (must be 0). */
        missingRefusals: refusals.missing,
        suspensionToLedgerRefusalMs: { p50: percentile(refusals.delays, 50), p99: percentile(refusals.delays, 99), max: Math.round(Math.max(...refusals.delays)) },
        cpuMsPerAccrual: Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, Number(((seconds * 1000) / Math.max(1, accepted)).toFixed(2))])),
      };
      console.log(
        `${rate}/s target: ${phase.accrualsPerSecond}/s sent, recordPurchase p99 ${phase.recordPurchaseP99Ms} ms; ${phase.tierChanges} tier changes (${phase.missingTierChanges} missing), delay p50 ${phase.tierChangeDelayMs.p50} ms, p99 ${phase.tierChangeDelayMs.p99} ms (until numbered: p50 ${phase.untilSequencedMs.p50}, p99 ${phase.untilSequencedMs.p99}); ${phase.suspensions} suspensions (${phase.missingRefusals} missing), refused by the ledger after p50 ${phase.suspensionToLedgerRefusalMs.p50} ms, p99 ${phase.suspensionToLedgerRefusalMs.p99} ms`,
      );
      steady.push(phase);
    }

    // Throughput: the whole backlog again, from position 0, with the real work of each event.
    const backlog = Number((await ledgerDb.query(`SELECT count(*) FROM outbox WHERE event_type IN ('PointsAccrued', 'PointsReturned')`)).rows[0].count);
    await stack.stopSubgraph('members');
    await membersDb.query(`BEGIN`);
    await membersDb.query(`DELETE FROM processed_events`);
    await membersDb.query(`DELETE FROM status_points`);
    await membersDb.query(`DELETE FROM tier_changes WHERE reason_code = 'QUALIFIED'`);
    await membersDb.query(`UPDATE members SET tier_id = (SELECT id FROM tiers WHERE program_id = $1 AND rank = 0) WHERE program_id = $1`, [stack.programId]);
    await membersDb.query(`UPDATE event_consumers SET position = 0`);
    await membersDb.query(`COMMIT`);
    await stack.startSubgraph('members');
    const started = Date.now();
    const drained = await caughtUp(membersDb, ledgerDb, 300_000);
    const seconds = (drained - started) / 1000;
    const throughput = Math.round(backlog / seconds);
    console.log(`rebuild: ${backlog} events applied in ${seconds.toFixed(1)} s after restart: ${throughput} events/s`);

    const atAim = steady.find((phase) => phase.targetAccrualsPerSecond === AIM.rate);
    return {
      transport: process.env['EVENT_TRANSPORT'] === 'nats' ? 'NATS JetStream' : 'HTTP feed over the outbox (default)',
      connections: CONNECTIONS,
      secondsPerRate: SECONDS,
      measuredFrom: 'PostgreSQL commit timestamps: the accrual’s journal entry (ledger) to the tier change (members); the suspension (members) to the ledger’s member snapshot saying SUSPENDED',
      suspensionsPerSecond: SUSPENSIONS_PER_SECOND,
      steady,
      rebuildThroughput: { events: backlog, seconds: Number(seconds.toFixed(2)), eventsPerSecond: throughput, includes: 'members process start, each event’s tier evaluation and its TierChanged event' },
      aim: `tier change p99 under ${AIM.p99Ms} ms at ${AIM.rate} accruals/s`,
      aimMet: atAim ? atAim.accrualsPerSecond >= AIM.rate * 0.95 && atAim.tierChangeDelayMs.p99 < AIM.p99Ms && atAim.missingTierChanges === 0 : null,
      note: 'Load generator, gateway, subgraphs and PostgreSQL share the same 2 cores.',
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

/**
 * Per upgrade of the given members: from the accrual's commit (its journal entry is immutable, so
 * its xmin is recordPurchase's transaction) to the tier change's commit, and to the commit of the
 * sequencer that numbered the accrual's event (the outbox row's xmin after numbering).
 */
async function upgradeDelays(stack: BenchStack, membersDb: pg.Client, ledgerDb: pg.Client, memberIds: Set<string>): Promise<{ total: number[]; sequencing: number[]; missing: number }> {
  const ids = [...memberIds];
  const changed = new Map(
    (
      (
        await membersDb.query(
          `SELECT t.member_id, extract(epoch FROM pg_xact_commit_timestamp(t.xmin)) * 1000 AS at FROM tier_changes t
           WHERE t.member_id = ANY($1::uuid[]) AND t.reason_code = 'QUALIFIED'`,
          [ids],
        )
      ).rows as { member_id: string; at: string }[]
    ).map((row) => [row.member_id, Number(row.at)]),
  );
  const accruals = (
    await ledgerDb.query(
      `SELECT e.member_id, extract(epoch FROM pg_xact_commit_timestamp(e.xmin)) * 1000 AS committed, extract(epoch FROM pg_xact_commit_timestamp(o.xmin)) * 1000 AS numbered
       FROM journal_entries e JOIN outbox o ON o.entry_id = e.id WHERE e.kind = 'ACCRUAL' AND e.program_id = $1 AND e.member_id = ANY($2::uuid[])`,
      [stack.programId, ids],
    )
  ).rows as { member_id: string; committed: string; numbered: string }[];
  return {
    total: accruals.filter((a) => changed.has(a.member_id)).map((a) => changed.get(a.member_id)! - Number(a.committed)),
    sequencing: accruals.map((a) => Number(a.numbered) - Number(a.committed)),
    missing: accruals.filter((a) => !changed.has(a.member_id)).length,
  };
}

/** An agent suspending a member every 1/SUSPENSIONS_PER_SECOND s until stopped; resolves to those suspended. */
function suspendWhileLoading(gatewayUrl: string, agent: Record<string, string>, nextMember: () => string) {
  const suspended: string[] = [];
  const sent: Promise<unknown>[] = [];
  const timer = setInterval(() => {
    const memberId = nextMember();
    sent.push(graphql(gatewayUrl, agent, SUSPEND, { id: memberId }).then(() => suspended.push(memberId)));
  }, 1000 / SUSPENSIONS_PER_SECOND);
  return {
    async stop(): Promise<string[]> {
      clearInterval(timer);
      await Promise.all(sent);
      return suspended;
    },
  };
}

/** Per suspension: from its commit in members to the commit that made the ledger's snapshot say SUSPENDED. */
async function refusalDelays(membersDb: pg.Client, ledgerDb: pg.Client, memberIds: string[]): Promise<{ delays: number[]; missing: number }> {
  const committed = (
    await membersDb.query(
      `SELECT member_id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 AS at FROM member_status_changes WHERE member_id = ANY($1::uuid[]) AND to_status = 'SUSPENDED'`,
      [memberIds],
    )
  ).rows as { member_id: string; at: string }[];
  const applied = new Map(
    (
      (
        await ledgerDb.query(
          `SELECT member_id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 AS at FROM member_snapshots WHERE member_id = ANY($1::uuid[]) AND status = 'SUSPENDED'`,
          [memberIds],
        )
      ).rows as { member_id: string; at: string }[]
    ).map((row) => [row.member_id, Number(row.at)]),
  );
  return {
    delays: committed.filter((c) => applied.has(c.member_id)).map((c) => applied.get(c.member_id)! - Number(c.at)),
    missing: committed.filter((c) => !applied.has(c.member_id)).length,
  };
}

/** Waits until every purchase sent for these members is in the journal (the load's last requests land after it stops). */
async function settled(ledgerDb: pg.Client, memberIds: Set<string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [{ n }] = (await ledgerDb.query(`SELECT count(*)::int AS n FROM journal_entries WHERE kind = 'ACCRUAL' AND member_id = ANY($1::uuid[])`, [[...memberIds]])).rows as [{ n: number }];
    if (n >= memberIds.size) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}
