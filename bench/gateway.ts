import { randomUUID } from 'node:crypto';
import { createViewerSigner, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import { cpuSeconds, load, processTree, type LoadResult } from './lib';
import { graphql, startStack, type BenchStack } from './stack';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** A steady rate for the CPU-per-request figure: under saturation the event loop batches work and each request looks cheaper than it is at everyday load. */
const RATE = Number(process.env['BENCH_RATE'] ?? 200);
const RATE_SECONDS = Number(process.env['BENCH_RATE_SECONDS'] ?? 4);
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60);

const LOOKUP = `query LookUp($programId: ID!, $value: String!) {
  memberByIdentifier(programId: $programId, type: EMAIL, value: $value) { id status firstName tier { name rank } }
}`;
/** A member's home screen: profile and tier from members, points from the ledger. */
const DASHBOARD = `query Dashboard {
  me { id firstName status tier { name rank } points { available pending held lifetimeEarned statusPoints } }
}`;
const RECORD = `mutation Record($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code } } }`;

/** A way to reach the graph: our gateway, a subgraph called directly, or another gateway. */
export interface GatewayTarget {
  name: string;
  url: string;
  /** The process whose CPU time is charged to the gateway (none for a direct call). */
  pid?: number;
  /** Headers for the caller (a JWT for gateways, the internal viewer token for a subgraph). */
  headers(caller: BenchCaller): Promise<Record<string, string>>;
  /** Which scenarios it serves (a subgraph alone cannot answer a two-subgraph dashboard). */
  serves: (scenario: string) => boolean;
  stop?: () => Promise<void>;
}

export interface BenchCaller {
  viewer: Viewer;
  jwt: string;
}

/** Other gateways (Hive Gateway) plug in here; see bench/hive.ts. */
export type ExtraTargets = (stack: BenchStack, internalSecret: string) => Promise<GatewayTarget[]>;

interface Scenario {
  name: string;
  caller: BenchCaller;
  /** Several callers in turn, each with their own token (members each open their own dashboard). */
  callers?: BenchCaller[];
  /** Request bodies: rotated over, or made fresh per request (unique idempotency keys). */
  bodies: string[];
  body?: () => string;
  /** The answer must carry real data, or the figures would measure error handling. */
  check: (data: Record<string, unknown>) => boolean;
}

/**
 * `pnpm bench gateway`: the same three requests — a member lookup (members only), a member's
 * dashboard (members and ledger) and a purchase (ledger, a write) — straight to the subgraph, through
 * our gateway and through the other gateways, in alternating rounds of one run. For every gateway
 * it reports requests/s, p50/p99 and the CPU milliseconds the gateway process spent per request
 * (its utime + stime from /proc over the round, divided by the requests answered), then the CPU per
 * request in the first seconds after a restart (the cold penalty).
 */
export async function gatewayScenario(extra?: ExtraTargets): Promise<Record<string, unknown>> {
  const stack = await startStack({ members: 2_000 });
  const targets: GatewayTarget[] = [];
  try {
    const programId = stack.programId;
    const admin = { authorization: `Bearer ${await stack.tokens.staff({ programId, roles: ['ADMIN'], subject: 'bench-admin' })}` };
    await graphql(stack.gatewayUrl, admin, `mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR }) { ruleSet { version } } }`, { p: programId });

    const agentViewer: Viewer = { kind: 'STAFF', subject: 'bench-agent', programId, memberId: null, partnerId: null, roles: ['AGENT'], scopes: [] };
    const agent: BenchCaller = { viewer: agentViewer, jwt: await stack.tokens.staff({ programId, roles: ['AGENT'], subject: 'bench-agent' }) };
    // 500 different members: one member asked 32 times at once would measure a gateway's
    // de-duplication of identical subgraph calls (Hive Gateway has it), not a dashboard.
    const members: BenchCaller[] = await Promise.all(
      stack.memberIds.slice(0, 500).map(async (id, i) => ({
        viewer: { kind: 'MEMBER', subject: `bench-member-${i}`, programId, memberId: id, partnerId: null, roles: [], scopes: [] } satisfies Viewer,
        jwt: await stack.tokens.member({ programId, memberId: id, subject: `bench-member-${i}` }),
      })),
    );
    const member = members[0]!;

    const sign = createViewerSigner(stack.internalSecret);
    const subgraphTarget = (name: string, scenarios: string[]): GatewayTarget => ({
      name: `direct ${name}`,
      url: stack.subgraphUrls[name]!,
      headers: async (caller) => ({ [VIEWER_HEADER]: await sign(caller.viewer) }),
      serves: (scenario) => scenarios.includes(scenario),
    });
    targets.push(
      { name: 'our gateway', url: stack.gatewayUrl, pid: stack.pids()['gateway'], headers: async (caller) => ({ authorization: `Bearer ${caller.jwt}` }), serves: () => true },
      subgraphTarget('members', ['lookup']),
      subgraphTarget('ledger', ['purchase']),
      ...(extra ? await extra(stack, stack.internalSecret) : []),
    );

    let n = 0;
    const purchase = () => {
      const id = randomUUID();
      const basket = { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'DIESEL', category: 'fuel', quantity: 1, amount: '42.50' }] };
      return JSON.stringify({ query: RECORD, variables: { input: { idempotencyKey: `bench-${id}`, memberId: stack.memberIds[++n % stack.memberIds.length], source: 'bench', externalId: id, basket } } });
    };
    const scenarios: Scenario[] = [
      {
        name: 'lookup',
        caller: agent,
        bodies: Array.from({ length: 2_000 }, (_, i) => JSON.stringify({ query: LOOKUP, variables: { programId, value: `member${i + 1}@${stack.emailDomain}` } })),
        check: (data) => Boolean((data['memberByIdentifier'] as { id?: string } | null)?.id),
      },
      {
        name: 'dashboard',
        caller: member,
        callers: members,
        bodies: [JSON.stringify({ query: DASHBOARD })],
        check: (data) => {
          const me = data['me'] as { id?: string; points?: { available?: number } | null } | null;
          return Boolean(me?.id) && typeof me?.points?.available === 'number';
        },
      },
      { name: 'purchase', caller: agent, bodies: [], body: purchase, check: (data) => Boolean((data['recordPurchase'] as { purchase?: { id?: string } } | null)?.purchase?.id) },
    ];

    // Every target must answer every scenario it serves with real data before anything is measured.
    for (const scenario of scenarios) {
      for (const target of targets.filter((t) => t.serves(scenario.name))) {
        const body = scenario.body ? scenario.body() : scenario.bodies[0]!;
        const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await target.headers(scenario.caller)) }, body });
        const answer = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
        if (!answer.data || !scenario.check(answer.data) || answer.errors) throw new Error(`${target.name} did not answer ${scenario.name}: ${JSON.stringify(answer)}`);
      }
    }

    const cold = await coldPenalty(stack, scenarios[0]!, targets[0]!);

    const results: Record<string, Record<string, Round[]>> = {};
    console.log(`${ROUNDS} alternating rounds of ${SECONDS}s at ${CONNECTIONS} connections per scenario and target`);
    for (const scenario of scenarios) {
      const serving = targets.filter((t) => t.serves(scenario.name));
      results[scenario.name] = Object.fromEntries(serving.map((t) => [t.name, []]));
      // Warm every target on this request first, so no round pays for another's JIT.
      for (const target of serving) await measure(target, scenario, 2);
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate the order so no target always runs right after the same neighbour.
        const order = round % 2 === 0 ? serving : [...serving].reverse();
        for (const target of order) {
          const measured = await measure(target, scenario, SECONDS);
          const steady = target.pid ? await measure(target, scenario, RATE_SECONDS, RATE) : null;
          const failed = measured.errors + measured.non2xx + (steady ? steady.errors + steady.non2xx : 0);
          results[scenario.name]![target.name]!.push({ ...measured, cpuMsPerRequestAtRate: steady?.cpuMsPerRequest ?? null, latencyP50MsAtRate: steady?.latencyP50Ms ?? null, errors: measured.errors + (steady?.errors ?? 0), non2xx: measured.non2xx + (steady?.non2xx ?? 0) });
          console.log(
            `${scenario.name} round ${round + 1} ${target.name}: ${measured.requestsPerSecond}/s p50 ${measured.latencyP50Ms} ms p99 ${measured.latencyP99Ms} ms` +
              (steady ? `, CPU/request ${measured.cpuMsPerRequest} ms saturated, ${steady.cpuMsPerRequest} ms at ${RATE}/s (p50 ${steady.latencyP50Ms} ms)` : '') +
              (failed ? `, ${failed} failed` : ''),
          );
        }
      }
    }

    const summary = Object.fromEntries(
      Object.entries(results).map(([scenario, byTarget]) => [
        scenario,
        Object.fromEntries(
          Object.entries(byTarget).map(([target, rounds]) => [
            target,
            {
              requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
              latencyP50Ms: median(rounds.map((r) => r.latencyP50Ms)),
              latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
              cpuMsPerRequest: rounds[0]!.cpuMsPerRequest === null ? null : median(rounds.map((r) => r.cpuMsPerRequest!)),
              cpuMsPerRequestAtRate: rounds[0]!.cpuMsPerRequestAtRate === null ? null : median(rounds.map((r) => r.cpuMsPerRequestAtRate!)),
              latencyP50MsAtRate: rounds[0]!.latencyP50MsAtRate === null ? null : median(rounds.map((r) => r.latencyP50MsAtRate!)),
              failed: rounds.reduce((s, r) => s + r.errors + r.non2xx, 0),
            },
          ]),
        ),
      ]),
    );
    const ours = (scenario: string) => (summary[scenario] as Record<string, { cpuMsPerRequestAtRate: number | null }>)['our gateway']!.cpuMsPerRequestAtRate!;
    return {
      connections: CONNECTIONS,
      secondsPerRound: SECONDS,
      steadyRate: { requestsPerSecond: RATE, seconds: RATE_SECONDS },
      rounds: ROUNDS,
      summary,
      coldStart: cold,
      aims: { warmCpuMsPerSingleSubgraphRequest: 0.6, warmCpuMsPerDashboard: 1.5, coldPenaltyAfterReady: 'none' },
      aimsMet: { lookup: ours('lookup') <= 0.6, dashboard: ours('dashboard') <= 1.5, purchase: ours('purchase') <= 0.6 },
      detail: results,
      note: 'Medians of alternating rounds. Load generator, gateways, subgraphs and PostgreSQL share 2 cores; CPU ms per request is the gateway process own utime+stime over the round divided by the requests answered, saturated (as fast as it goes) and at a steady rate (the aims are for the steady rate).',
    };
  } finally {
    for (const target of targets) await target.stop?.();
    await stack.stop();
  }
}

interface Measured extends LoadResult {
  cpuMsPerRequest: number | null;
}

interface Round extends Measured {
  cpuMsPerRequestAtRate: number | null;
  latencyP50MsAtRate: number | null;
}

async function measure(target: GatewayTarget, scenario: Scenario, seconds: number, rate?: number): Promise<Measured> {
  const headers = await target.headers(scenario.caller);
  const headersPerBody = scenario.callers ? await Promise.all(scenario.callers.map((c) => target.headers(c))) : undefined;
  const before = target.pid ? treeCpuSeconds(target.pid) : 0;
  const result = await load({ url: target.url, headers, bodies: scenario.bodies, ...(scenario.body ? { body: scenario.body } : {}), connections: CONNECTIONS, seconds, ...(rate ? { rate } : {}), ...(headersPerBody ? { headersPerBody } : {}) });
  const after = target.pid ? treeCpuSeconds(target.pid) : 0;
  return { ...result, cpuMsPerRequest: target.pid ? Number((((after - before) * 1000) / Math.max(1, result.requests)).toFixed(3)) : null };
}

/**
 * Restarts our gateway without and with its warm-up (alternating, twice each) and measures CPU per
 * request over its first seconds after /ready, in one-second slices at the steady rate: with no
 * penalty the first slice costs what the sixth does. Slices of equal length compare like with
 * like (each load opens its connections anew). Then, warmed, it idles and is measured again.
 */
async function coldPenalty(stack: BenchStack, scenario: Scenario, ours: GatewayTarget): Promise<Record<string, unknown>> {
  const slicesOf: Record<string, number[][]> = { withoutWarmUp: [], withWarmUp: [] };
  for (let repeat = 0; repeat < 2; repeat++) {
    for (const [name, env] of [['withoutWarmUp', { GATEWAY_WARM_UP: 'off' }], ['withWarmUp', {}]] as const) {
      await stack.restartGateway(env);
      ours.pid = stack.pids()['gateway'];
      const slices: number[] = [];
      for (let i = 0; i < 6; i++) slices.push((await measure(ours, scenario, 1, RATE)).cpuMsPerRequest!);
      slicesOf[name]!.push(slices);
      console.log(`after a restart ${name === 'withWarmUp' ? 'with' : 'without'} warm-up (${scenario.name}, CPU ms per request, second by second after /ready): ${slices.join(', ')}`);
    }
  }
  // Then idle, as a gateway does at night, and measure again.
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const afterIdle: number[] = [];
  for (let i = 0; i < 3; i++) afterIdle.push((await measure(ours, scenario, 1, RATE)).cpuMsPerRequest!);
  console.log(`after ${IDLE_SECONDS}s idle: ${afterIdle.join(', ')}`);
  const bySecond = (runs: number[][]) => runs[0]!.map((_, i) => median(runs.map((r) => r[i]!)));
  const summary = Object.fromEntries(
    Object.entries(slicesOf).map(([name, runs]) => {
      const seconds = bySecond(runs);
      return [name, { cpuMsPerRequestBySecondAfterReady: seconds, firstToSixthRatio: Number((seconds[0]! / seconds[5]!).toFixed(2)), runs }];
    }),
  );
  const warmSixth = (summary['withWarmUp'] as { cpuMsPerRequestBySecondAfterReady: number[] }).cpuMsPerRequestBySecondAfterReady[5]!;
  return { scenario: scenario.name, ...summary, idleSeconds: IDLE_SECONDS, cpuMsPerRequestBySecondAfterIdle: afterIdle, afterIdleToWarmRatio: Number((afterIdle[0]! / warmSixth).toFixed(2)) };
}

/** CPU seconds of a gateway process and any workers it forked. */
function treeCpuSeconds(pid: number): number {
  const pids = Object.fromEntries(processTree(pid).map((p) => [String(p), p]));
  const seconds = cpuSeconds(pids);
  return Object.keys(pids).reduce((sum, p) => sum + (seconds[p] ?? 0), 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Number(((sorted[mid - 1]! + sorted[mid]!) / 2).toFixed(3));
}
