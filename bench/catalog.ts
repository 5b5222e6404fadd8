import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { createViewerSigner, serviceViewer, VIEWER_HEADER } from '@loyalty-graph/shared';
import { databaseUrl, openDatabase } from '@loyalty-graph/shared/db';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { stockDiscrepancies } from '../subgraphs/catalog/src/services/stock-check';
import { failed, medianSummary, sumCounts } from './lib';
import { consumerCaughtUp, graphql, startStack } from './stack';

/** The catalog's database as the services open it (TypeORM; the stock check takes it). */
type DataSource = Awaited<ReturnType<typeof openDatabase>>;

const CONNECTIONS = (process.env['BENCH_CONNECTIONS'] ?? '16,64').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** Members who order, and as many others whose points the floor holds and captures. */
const MEMBERS = Number(process.env['BENCH_CATALOG_MEMBERS'] ?? 200);
const WIDE_REWARDS = Number(process.env['BENCH_WIDE_REWARDS'] ?? 200);
/** Units of each of the 3 rewards in the sell-out run: small, so they sell out within seconds. */
const SELLOUT_STOCK = Number(process.env['BENCH_SELLOUT_STOCK'] ?? 50);
const SELLOUT_SECONDS = Number(process.env['BENCH_SELLOUT_SECONDS'] ?? 5);

/** What one order (and one floor pair) costs: every reward and hold is the same price. */
const POINTS_EACH = 10;
/** Far more than any run spends: a refusal for want of points would measure the refusal. */
const POINTS_GIVEN = 1_000_000;
/** Stock of the wide and the hot rewards in the measured runs: never sold out. */
const LARGE_STOCK = 1_000_000;

const ADDRESS = { name: 'Bench Member', line1: 'Storgata 1', postalCode: '00-950', city: 'Warszawa', country: 'pl' };
const PLACE = `mutation Place($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { id status } userErrors { code } } }`;
const HOLD = `mutation Hold($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id status } userErrors { code } } }`;
const CAPTURE = `mutation Capture($input: HoldActionInput!) { captureHold(input: $input) { hold { id status } userErrors { code } } }`;

/** One target's figures for one run: units are confirmed orders, or captured hold+capture pairs. */
interface RunResult {
  /** Completed units (a CONFIRMED order; a captured pair) per second. */
  unitsPerSecond: number;
  /** Latency of a completed unit, from sending its first request to the answer of its last. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** HTTP requests per second (a pair is two). */
  requestsPerSecond: number;
  completed: number;
  /** Everything that did not complete, by code: GraphQL error codes, userError codes, HTTP status, transport errors. */
  errors: Record<string, number>;
}

/** One step of a unit: its request (null: the unit cannot go on) and what its answer means. */
interface Step {
  request(context: Record<string, unknown>): { headers: Record<string, string>; body: string } | null;
  /** The answer's outcome: 'next' (go on to the next step), 'done' (the unit completed) or a failure code. */
  outcome(status: number, body: Record<string, unknown> | null, context: Record<string, unknown>): 'next' | 'done' | string;
}

/**
 * `pnpm bench catalog`: `placeRewardOrder` through the gateway (a member orders one of 200
 * rewards) beside its floor, the ledger's `holdPoints` + `captureHold` alone, and a hot run where
 * everyone orders the same 3 rewards; each at 16 and 64 connections, in alternating rounds of one
 * run. Then a sell-out run (3 rewards of a few units each, everyone ordering them). Afterwards the
 * databases must show nothing oversold and no points lost: per member, the points that left the
 * ledger equal the points of their confirmed orders, no hold is left open, and every confirmed
 * order has exactly one captured hold.
 */
export async function catalogScenario(): Promise<Record<string, unknown>> {
  const stack = await startStack({ members: MEMBERS * 2 });
  const { gatewayUrl, programId, tokens } = stack;
  const dbs: { ledger?: pg.Pool; catalog?: DataSource } = {};
  try {
    const admin = { authorization: `Bearer ${await tokens.staff({ programId, roles: ['ADMIN'], subject: 'bench-admin' })}` };
    const agent = { authorization: `Bearer ${await tokens.staff({ programId, roles: ['AGENT'], subject: 'bench-agent' })}` };
    const orderers = stack.memberIds.slice(0, MEMBERS);
    const holders = stack.memberIds.slice(MEMBERS, MEMBERS * 2);

    // The catalog places orders only for members it knows from members' events (the ledger's were awaited by the stack).
    const members = new pg.Client({ connectionString: databaseUrl(stack.serverUrl, 'members') });
    const catalogEvents = new pg.Client({ connectionString: databaseUrl(stack.serverUrl, 'catalog') });
    await Promise.all([members.connect(), catalogEvents.connect()]);
    await consumerCaughtUp(catalogEvents, 'catalog.members-events', members, 300_000);
    await Promise.all([members.end(), catalogEvents.end()]);

    for (const [i, memberId] of [...orderers, ...holders].entries()) {
      const { adjustPoints } = (await graphql(gatewayUrl, agent, `mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
        i: { idempotencyKey: `bench-points-${i}-${randomUUID()}`, memberId, points: POINTS_GIVEN, reasonCode: 'GOODWILL', comment: 'benchmark points' },
      })) as { adjustPoints: { userErrors: unknown[] } };
      if (adjustPoints.userErrors.length) throw new Error(`adjustPoints refused: ${JSON.stringify(adjustPoints.userErrors)}`);
    }
    const createReward = async (name: string, stock: number) => {
      const { createReward } = (await graphql(gatewayUrl, admin, `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`, {
        input: { idempotencyKey: `bench-reward-${randomUUID()}`, programId, type: 'PHYSICAL', stock, details: { defaultLocale: 'en', translations: [{ locale: 'en', name }], points: POINTS_EACH } },
      })) as { createReward: { reward: { id: string } | null; userErrors: unknown[] } };
      if (!createReward.reward) throw new Error(`createReward refused: ${JSON.stringify(createReward.userErrors)}`);
      return createReward.reward.id;
    };
    const wide: string[] = [];
    for (let i = 0; i < WIDE_REWARDS; i++) wide.push(await createReward(`Wide ${i + 1}`, LARGE_STOCK));
    const hot = [await createReward('Hot 1', LARGE_STOCK), await createReward('Hot 2', LARGE_STOCK), await createReward('Hot 3', LARGE_STOCK)];

    const memberHeaders = await Promise.all(orderers.map(async (memberId, i) => ({ authorization: `Bearer ${await tokens.member({ programId, memberId, subject: `bench-member-${i}` })}` })));
    const sign = createViewerSigner(stack.internalSecret);
    // Internal viewer tokens are short-lived (as the kit signs them per call): re-signed every 20 s
    // so a long run never sends an expired one.
    let asCatalog = { [VIEWER_HEADER]: await sign(serviceViewer('catalog')) };
    const resign = setInterval(() => {
      void sign(serviceViewer('catalog')).then((token) => (asCatalog = { [VIEWER_HEADER]: token }));
    }, 20_000);
    resign.unref();

    dbs.ledger = new pg.Pool({ connectionString: databaseUrl(stack.serverUrl, 'ledger'), max: 2 });
    const catalogModule = SUBGRAPHS.find((m) => m.name === 'catalog')!;
    dbs.catalog = await openDatabase({ url: databaseUrl(stack.serverUrl, 'catalog'), entities: catalogModule.database.entities, migrations: catalogModule.database.migrations, applicationName: 'bench-verify' });
    const postedBefore = await postedPoints(dbs.ledger, orderers);

    let n = 0;
    /** A member (each with their own token) orders one unit of one of the rewards, with a fresh key every time. */
    const ordering = (rewards: string[]): Step[] => [
      {
        request: () => {
          const i = n++;
          const input = { idempotencyKey: `bench-order-${randomUUID()}`, memberId: orderers[i % orderers.length], lines: [{ rewardId: rewards[(i * 7 + Math.floor(i / orderers.length)) % rewards.length], quantity: 1 }], shippingAddress: ADDRESS };
          return { headers: memberHeaders[i % orderers.length]!, body: JSON.stringify({ query: PLACE, variables: { input } }) };
        },
        outcome: (status, body) => {
          const failure = failed(status, body);
          if (failure) return failure;
          const payload = (body!['data'] as { placeRewardOrder: { order: { status: string } | null; userErrors: { code: string }[] } }).placeRewardOrder;
          if (payload.userErrors[0]) return payload.userErrors[0].code;
          return payload.order?.status === 'CONFIRMED' ? 'done' : `status ${payload.order?.status}`;
        },
      },
    ];
    // The floor is the ledger work one order does, called as the catalog calls it: as the catalog
    // service, straight to the ledger (subgraph-to-subgraph calls never go through the gateway).
    // An agent through the gateway would add two gateway hops per pair, while an order pays one
    // for the member's single request: that floor would be lower than the saga's real one and flatter
    // the ratio. So the ratio says what the member's gateway hop plus the catalog's own work (the
    // order rows, stock reservation, recorded steps) cost on top of the ledger's hold and capture.
    const floor: Step[] = [
      {
        request: (context) => {
          const i = n++;
          context['holdKey'] = `bench-floor-${randomUUID()}`;
          const input = { idempotencyKey: context['holdKey'], memberId: holders[i % holders.length], points: POINTS_EACH, reference: `bench-floor:${context['holdKey']}` };
          return { headers: asCatalog, body: JSON.stringify({ query: HOLD, variables: { input } }) };
        },
        outcome: (status, body, context) => {
          const failure = failed(status, body);
          if (failure) return failure;
          const payload = (body!['data'] as { holdPoints: { hold: { id: string } | null; userErrors: { code: string }[] } }).holdPoints;
          if (payload.userErrors[0]) return payload.userErrors[0].code;
          context['holdId'] = payload.hold!.id;
          return 'next';
        },
      },
      {
        request: (context) =>
          context['holdId'] ? { headers: asCatalog, body: JSON.stringify({ query: CAPTURE, variables: { input: { idempotencyKey: `${context['holdKey']}-capture`, holdId: context['holdId'] } } }) } : null,
        outcome: (status, body) => {
          const failure = failed(status, body);
          if (failure) return failure;
          const payload = (body!['data'] as { captureHold: { hold: { status: string } | null; userErrors: { code: string }[] } }).captureHold;
          if (payload.userErrors[0]) return payload.userErrors[0].code;
          return payload.hold?.status === 'CAPTURED' ? 'done' : `status ${payload.hold?.status}`;
        },
      },
    ];
    const targets: { name: string; url: string; steps: Step[] }[] = [
      { name: 'placeRewardOrder', url: gatewayUrl, steps: ordering(wide) },
      { name: 'holdCapture', url: stack.subgraphUrls['ledger']!, steps: floor },
      { name: 'hotRewards', url: gatewayUrl, steps: ordering(hot) },
    ];

    // Every target must complete a unit before anything is measured; then each is warmed briefly.
    for (const target of targets) {
      const sample = await run(target.url, target.steps, 1, 1);
      if (!sample.completed) throw new Error(`${target.name} completed nothing: ${JSON.stringify(sample.errors)}`);
      await run(target.url, target.steps, CONNECTIONS[0]!, 2);
    }

    const results: Record<string, Record<string, RunResult[]>> = Object.fromEntries(targets.map((t) => [t.name, Object.fromEntries(CONNECTIONS.map((c) => [String(c), [] as RunResult[]]))]));
    console.log(`${ROUNDS} alternating rounds of ${SECONDS}s at ${CONNECTIONS.join(' and ')} connections per target`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        // Alternate the order so no target always runs right after the same neighbour.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const result = await run(target.url, target.steps, connections, SECONDS);
          results[target.name]![String(connections)]!.push(result);
          const failedCount = Object.values(result.errors).reduce((a, b) => a + b, 0);
          console.log(
            `round ${round + 1} ${target.name} at ${connections}: ${result.unitsPerSecond}/s p50 ${result.latencyP50Ms} ms p99 ${result.latencyP99Ms} ms` + (failedCount ? `, failed ${JSON.stringify(result.errors)}` : ''),
          );
        }
      }
    }

    // Sell-out: 3 rewards of a few units each, everyone ordering them at the higher connection count.
    const sellOutRewards = [await createReward('Sell-out 1', SELLOUT_STOCK), await createReward('Sell-out 2', SELLOUT_STOCK), await createReward('Sell-out 3', SELLOUT_STOCK)];
    // Runs again until the refusals say OUT_OF_STOCK (every unit sold or reserved), at most 10 times.
    const sellOutRuns: RunResult[] = [];
    do sellOutRuns.push(await run(gatewayUrl, ordering(sellOutRewards), CONNECTIONS.at(-1)!, SELLOUT_SECONDS));
    while (!sellOutRuns.at(-1)!.errors['OUT_OF_STOCK'] && sellOutRuns.length < 10);
    // Answers the load generator saw before each run stopped; orders still in flight then settle
    // afterwards, so what was sold is in the verification's sellOutStock.
    const sellOut = { confirmedAnswers: sellOutRuns.reduce((sum, r) => sum + r.completed, 0), refused: sumCounts(sellOutRuns.map((r) => r.errors)) };
    console.log(`sell-out of ${sellOutRewards.length} × ${SELLOUT_STOCK} units at ${CONNECTIONS.at(-1)} in ${sellOutRuns.length} run(s): ${sellOut.confirmedAnswers} confirmed, refused ${JSON.stringify(sellOut.refused)}`);

    // A load stopped mid-pair leaves the floor's last holds open: capture them, as its next step would have.
    const leftOpen = (await dbs.ledger.query(`SELECT id FROM holds WHERE status = 'OPEN' AND reference LIKE 'bench-floor:%'`)).rows as { id: string }[];
    for (const { id } of leftOpen) await graphql(stack.subgraphUrls['ledger']!, asCatalog, CAPTURE, { input: { idempotencyKey: `bench-floor-left-${id}`, holdId: id } });
    const verification = await verify(dbs.catalog, dbs.ledger, programId, orderers, postedBefore, sellOutRewards);
    console.log(`verification: ${JSON.stringify(verification)}`);

    const summary = medianSummary(results, 'unitsPerSecond');
    const rate = (target: string, connections: number) => summary[target]![String(connections)]!.unitsPerSecond;
    const orderToHoldCapture = Object.fromEntries(CONNECTIONS.map((c) => [String(c), Number((rate('placeRewardOrder', c) / Math.max(1, rate('holdCapture', c))).toFixed(3))]));
    const hotToWide = Object.fromEntries(CONNECTIONS.map((c) => [String(c), Number((rate('hotRewards', c) / Math.max(1, rate('placeRewardOrder', c))).toFixed(3))]));
    return {
      connections: CONNECTIONS,
      secondsPerRound: SECONDS,
      rounds: ROUNDS,
      setup: { orderingMembers: MEMBERS, floorMembers: MEMBERS, wideRewards: WIDE_REWARDS, hotRewards: hot.length, pointsEach: POINTS_EACH, stockOfMeasuredRewards: LARGE_STOCK },
      summary,
      orderToHoldCaptureRatio: orderToHoldCapture,
      hotToWideRatio: hotToWide,
      sellOut: { rewards: sellOutRewards.length, stockEach: SELLOUT_STOCK, runsOfSeconds: SELLOUT_SECONDS, runs: sellOutRuns.length, connections: CONNECTIONS.at(-1), ...sellOut },
      floorHoldsCapturedAfterLoad: leftOpen.length,
      verification,
      aim: 'placeRewardOrder ≥ 50% of holdPoints+captureHold at 16 and 64 connections; 0 oversold, 0 lost points',
      aimMet: Object.values(orderToHoldCapture).every((r) => r >= 0.5) && verification.oversold === 0 && verification.lostPoints === 0 && verification.openHolds === 0 && verification.capturedHoldsMismatch === 0,
      detail: results,
      note:
        'Medians of alternating rounds. Units per second: CONFIRMED orders (placeRewardOrder, hotRewards) or captured hold+capture pairs (holdCapture, as the catalog service straight to the ledger, the calls the saga makes); latency is per unit (a pair: both requests). Load generator, gateway, subgraphs and PostgreSQL share the same cores.',
    };
  } finally {
    await dbs.ledger?.end();
    await dbs.catalog?.destroy();
    await stack.stop();
  }
}

/**
 * Runs units of one or more steps on every connection (autocannon's request sequence: a step's
 * answer feeds the next through the connection's context) for `seconds`; counts completed units,
 * their latency, and every failure by code.
 */
async function run(url: string, steps: Step[], connections: number, seconds: number): Promise<RunResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const fail = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  let completed = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: steps.map((step, i) => ({
      setupRequest: (request: autocannon.Request, state: object) => {
        const context = state as Record<string, unknown>;
        const next = step.request(context);
        if (!next) return null as unknown as autocannon.Request;
        if (i === 0) context['startedAt'] = performance.now();
        return { ...request, headers: { ...request.headers, ...next.headers }, body: next.body };
      },
      onResponse: (status: number, body: string, state: object) => {
        const context = state as Record<string, unknown>;
        let parsed: Record<string, unknown> | null = null;
        try {
          parsed = JSON.parse(body) as Record<string, unknown>;
        } catch {
          // Counted below as the HTTP status or an unreadable answer.
        }
        const outcome = step.outcome(status, parsed, context);
        if (outcome === 'done') {
          completed++;
          latencies.push(performance.now() - (context['startedAt'] as number));
        } else if (outcome !== 'next') {
          fail(outcome);
          context['holdId'] = undefined;
        }
      },
    })),
  });
  if (result.errors) fail('transport errors');
  if (result.timeouts) fail('timeouts');
  latencies.sort((a, b) => a - b);
  return {
    unitsPerSecond: Math.round(completed / seconds),
    latencyP50Ms: Math.round(latencies[Math.floor(latencies.length * 0.5)] ?? 0),
    latencyP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
    requestsPerSecond: Math.round(result.requests.average),
    completed,
    errors,
  };
}

async function postedPoints(ledger: pg.Pool, memberIds: string[]): Promise<Map<string, bigint>> {
  const rows = (await ledger.query(`SELECT owner_id AS "memberId", posted::text, held::text FROM accounts WHERE kind = 'MEMBER_REWARD' AND owner_id = ANY($1::uuid[])`, [memberIds])).rows as {
    memberId: string;
    posted: string;
    held: string;
  }[];
  return new Map(rows.map((r) => [r.memberId, BigInt(r.posted)]));
}

/**
 * What the databases say after the load, once every order has settled. Oversold: units sold
 * beyond those received, plus the stock check's discrepancies. Lost points: per ordering member,
 * the points that left their account (posted before − posted after) against the points of their
 * confirmed orders net of refunds, summed as absolute differences.
 */
async function verify(catalog: DataSource, ledger: pg.Pool, programId: string, orderers: string[], postedBefore: Map<string, bigint>, sellOutRewards: string[]) {
  // Orders whose request was cut off at a run's end finish on their own or by recovery (its lease is 30 s).
  const deadline = Date.now() + 120_000;
  let unsettled = 0;
  do {
    const [row] = (await catalog.query(`SELECT count(*)::int AS n FROM reward_orders WHERE program_id = $1 AND saga_step IN ('RESERVED', 'HELD')`, [programId])) as { n: number }[];
    unsettled = row!.n;
    if (unsettled) await new Promise((resolve) => setTimeout(resolve, 1000));
  } while (unsettled && Date.now() < deadline);

  const discrepancies = await stockDiscrepancies(catalog, programId);
  const stock = (await catalog.query(`SELECT id, stock_received AS received, stock_sold AS sold, stock_reserved AS reserved FROM rewards WHERE program_id = $1 AND stock_received IS NOT NULL`, [programId])) as {
    id: string;
    received: number;
    sold: number;
    reserved: number;
  }[];
  const oversoldUnits = stock.reduce((sum, r) => sum + Math.max(0, r.sold + r.reserved - r.received), 0);
  const byStatus = Object.fromEntries(
    ((await catalog.query(`SELECT status, count(*)::int AS n FROM reward_orders WHERE program_id = $1 GROUP BY status ORDER BY status`, [programId])) as { status: string; n: number }[]).map((r) => [r.status, r.n]),
  );
  const spentByOrders = new Map(
    (
      (await catalog.query(`SELECT member_id AS "memberId", sum(points - points_refunded)::text AS points FROM reward_orders WHERE program_id = $1 AND saga_step = 'DONE' GROUP BY member_id`, [programId])) as {
        memberId: string;
        points: string;
      }[]
    ).map((r) => [r.memberId, BigInt(r.points)]),
  );
  const [done] = (await catalog.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE points > 0)::int AS "withPoints" FROM reward_orders WHERE program_id = $1 AND saga_step = 'DONE'`, [programId])) as {
    n: number;
    withPoints: number;
  }[];
  const postedAfter = await postedPoints(ledger, orderers);
  let lostPoints = 0n;
  let membersMismatched = 0;
  for (const memberId of orderers) {
    const left = (postedBefore.get(memberId) ?? 0n) - (postedAfter.get(memberId) ?? 0n);
    const difference = left - (spentByOrders.get(memberId) ?? 0n);
    if (difference !== 0n) membersMismatched++;
    lostPoints += difference < 0n ? -difference : difference;
  }
  const [holds] = (await ledger.query(
    `SELECT count(*) FILTER (WHERE status = 'OPEN')::int AS open, count(*) FILTER (WHERE status = 'CAPTURED' AND reference LIKE 'reward-order:%')::int AS "capturedForOrders"
     FROM holds WHERE program_id = $1`,
    [programId],
  )).rows as { open: number; capturedForOrders: number }[];
  const soldOut = stock.filter((r) => sellOutRewards.includes(r.id)).map((r) => ({ received: r.received, sold: r.sold, reserved: r.reserved, soldOut: r.sold === r.received }));
  return {
    unsettledOrders: unsettled,
    oversold: oversoldUnits,
    stockDiscrepancies: discrepancies.length,
    stockDiscrepancyExamples: discrepancies.slice(0, 5).map((d) => ({ rewardId: d.reward.id, problem: d.problem })),
    sellOutStock: soldOut,
    lostPoints: Number(lostPoints),
    membersWithPointsMismatch: membersMismatched,
    openHolds: holds!.open,
    ordersConfirmed: done!.n,
    ordersByStatus: byStatus,
    capturedOrderHolds: holds!.capturedForOrders,
    capturedHoldsMismatch: holds!.capturedForOrders - done!.withPoints,
  };
}
