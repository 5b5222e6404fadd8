import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { Kind, parse } from 'graphql';
import pg from 'pg';
import { createLogger, systemClock } from '@loyalty-graph/shared';
import { databaseUrl, openDatabase } from '@loyalty-graph/shared/db';
import { EventConsumer, HttpEventSource } from '@loyalty-graph/shared/events';
import { Kpis } from '../subgraphs/analytics/src/services/kpis';
import type { Period } from '../subgraphs/analytics/src/domain/periods';
import { generateHistory, SYNTHETIC_ID_PREFIX } from './analytics-generator';
import { failed } from './lib';
import { consumerCaughtUp, graphql, startStack, type BenchStack } from './stack';
import { FACT_TABLES } from '../subgraphs/analytics/src/services/facts';

/** Synthetic members written by the generator (issue 12: 1,000,000); purchases are 10 × that. */
const MEMBERS = Number(process.env['ANALYTICS_BENCH_MEMBERS'] ?? 1_000_000);
const PURCHASES = MEMBERS * 10;
const SEED = Number(process.env['ANALYTICS_BENCH_SEED'] ?? 12);
/** Timed runs of each query (after 3 untimed warm-up runs). */
const QUERY_RUNS = Number(process.env['ANALYTICS_BENCH_QUERY_RUNS'] ?? 50);
/** The ingestion phase: recordPurchase through the gateway at a steady rate. */
const INGEST_RATE = Number(process.env['ANALYTICS_BENCH_INGEST_RATE'] ?? 200);
const INGEST_SECONDS = Number(process.env['ANALYTICS_BENCH_INGEST_SECONDS'] ?? 60);
/** Requests in flight at most: enough that the rate, not the load generator, limits (64 × a 300 ms answer ≈ 200/s). */
const INGEST_CONNECTIONS = Number(process.env['ANALYTICS_BENCH_INGEST_CONNECTIONS'] ?? 64);
/** Real members (the demo seed, through members' events) the ingested purchases are spread over. */
const STACK_MEMBERS = Number(process.env['ANALYTICS_BENCH_STACK_MEMBERS'] ?? 2_000);
const GENERATOR_CONNECTIONS = Number(process.env['ANALYTICS_BENCH_GENERATOR_CONNECTIONS'] ?? 2);
const GENERATOR_CHUNK = Number(process.env['ANALYTICS_BENCH_GENERATOR_CHUNK'] ?? 50_000);

/** Issue 12's aims. */
const QUERY_P95_AIM_MS = 500;
const LAG_P99_AIM_MS = 2_000;

const RECORD = `mutation Record($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id points } userErrors { code } } }`;
const KPIS = `query Kpis($p: ID!, $period: KpiPeriod!, $from: DateTime!, $to: DateTime!, $filter: KpiFilter) {
  program(id: $p) { kpis(period: $period, from: $from, to: $to, filter: $filter) { start enrolled pointsIssued pointsRedeemed pointsExpired purchases averagePointsPerPurchase } }
}`;
/** The unfiltered KPIs ask every figure, the activity ones (active, churned, retention, frequency) included. */
const KPIS_WITH_ACTIVITY = `query Kpis($p: ID!, $period: KpiPeriod!, $from: DateTime!, $to: DateTime!, $filter: KpiFilter) {
  program(id: $p) { kpis(period: $period, from: $from, to: $to, filter: $filter) {
    start enrolled pointsIssued pointsRedeemed pointsExpired purchases averagePointsPerPurchase active churned retentionRate purchaseFrequency averageBasket { amount currency } pointsPending redemptionRate
  } }
}`;
const SOURCE = 'bench-analytics';
const DAY_MS = 86_400_000;

/**
 * A query timed through the gateway. `needs` names the supergraph field it depends on: when the
 * composed supergraph does not have it, the query is recorded as not available instead of run.
 */
interface NamedQuery {
  name: string;
  needs: { type: string; field: string };
  /** Whose token runs it: the analyst's unless the field's root is not theirs (`member(id)` is the member's, an AGENT's or an ADMIN's). */
  as?: Viewer;
  query: string;
  variables: (context: QueryContext) => Record<string, unknown>;
  /** Timed runs when not QUERY_RUNS (queries known to take seconds). */
  runs?: number;
  /** What the answer must contain to count as a success (beyond no errors), and a figure to record. */
  check?: (data: Record<string, unknown>) => { ok: boolean; detail?: unknown };
}

type Viewer = 'analyst' | 'agent';

interface QueryContext {
  programId: string;
  asOf: Date;
  /** A real member (enrolled through members, known to every subgraph). */
  memberId: string;
  /** The program's top tier (the filtered KPIs' tier). */
  topTierId: string;
}

const kpiQuery = (name: string, period: string, days: number, filter?: (context: QueryContext) => Record<string, string>): NamedQuery => ({
  name,
  ...(filter ? { runs: 10 } : {}),
  needs: { type: 'Program', field: 'kpis' },
  query: filter ? KPIS : KPIS_WITH_ACTIVITY,
  variables: (context) => ({
    p: context.programId,
    period,
    from: new Date(context.asOf.getTime() - days * DAY_MS).toISOString(),
    to: context.asOf.toISOString(),
    filter: filter?.(context) ?? null,
  }),
  check: (data) => {
    const buckets = (data['program'] as { kpis: { purchases: number; enrolled: number }[] } | null)?.kpis ?? [];
    return { ok: buckets.length > 0, detail: { buckets: buckets.length, purchases: buckets.reduce((s, b) => s + b.purchases, 0), enrolled: buckets.reduce((s, b) => s + b.enrolled, 0) } };
  },
});

/** Issue 12's KPI queries (every figure, activity included): DAY over 90 days, WEEK over a year, MONTH, QUARTER and YEAR over 3 years. */
const KPI_QUERIES: NamedQuery[] = [
  kpiQuery('kpis DAY × 90 days', 'DAY', 90),
  kpiQuery('kpis WEEK × 1 year', 'WEEK', 365),
  kpiQuery('kpis MONTH × 3 years', 'MONTH', 3 * 365 + 1),
  kpiQuery('kpis QUARTER × 3 years', 'QUARTER', 3 * 365 + 1),
  kpiQuery('kpis YEAR × 3 years', 'YEAR', 3 * 365 + 1),
];
/** Filtered KPIs (issue 12: filterable by tier, segment, partner and channel), points and enrolments only (their activity scans the facts: seconds at this scale). */
const FILTERED_KPI_QUERIES: NamedQuery[] = [
  kpiQuery('kpis MONTH × 1 year, channel ONLINE', 'MONTH', 365, () => ({ channel: 'ONLINE' })),
  kpiQuery('kpis MONTH × 1 year, top tier', 'MONTH', 365, ({ topTierId }) => ({ tierId: topTierId })),
];

/**
 * The segment queries (issue 12). Each runs only when the supergraph has its field, else the result
 * file says "not available"; a query the schema rejects is recorded with its error, not dropped.
 * The segments they read are made by `ensureSegments` before they are timed.
 */
const SEGMENT_QUERIES: NamedQuery[] = [
  {
    name: 'Program.segments { profile }',
    needs: { type: 'Program', field: 'segments' },
    query: `query Segments($p: ID!) { program(id: $p) { segments { id name profile { size activeShare } } } }`,
    variables: ({ programId }) => ({ p: programId }),
    check: (data) => {
      const segments = (data['program'] as { segments: { name: string; profile: { size: number } }[] } | null)?.segments ?? [];
      // Profiles of empty segments would measure nothing: at least one must have members.
      return { ok: segments.some((s) => s.profile.size > 0), detail: { segments: segments.map((s) => ({ name: s.name, size: s.profile.size })) } };
    },
  },
  {
    name: 'Member.segments',
    needs: { type: 'Member', field: 'segments' },
    // member(id) is not the analyst's (members' access: MEMBER, ADMIN, AGENT): it answered FORBIDDEN with their token.
    as: 'agent',
    query: `query MemberSegments($m: ID!) { member(id: $m) { segments { id name } } }`,
    variables: ({ memberId }) => ({ m: memberId }),
  },
];

/**
 * The segments the bench makes when the program has none: the top tier (members with 40 purchases
 * or more) and the best RFM scores, a few percent of the members each, so their profiles are of real
 * members and their evaluation announces a bounded number of changes. Fixed idempotency keys: a
 * rerun on the same database finds them.
 */
const BENCH_SEGMENTS = (tierIds: string[]) => [
  { idempotencyKey: 'bench-analytics-top-tier', name: 'bench: top tier', visibleToMembers: false, rules: { tierIds: [tierIds[tierIds.length - 1]] } },
  { idempotencyKey: 'bench-analytics-best-rfm', name: 'bench: best RFM', visibleToMembers: false, rules: { rfm: { r: { min: 5 }, f: { min: 5 } } } },
];
/** How long the segments' evaluation (the mutation's batches, then the segment-evaluation job) may take before the queries are timed anyway. */
const SEGMENT_EVALUATION_TIMEOUT_MS = 20 * 60_000;

/**
 * `pnpm bench analytics` (issue 12): a generated history of MEMBERS members and 10 × MEMBERS
 * purchases written into a running stack's analytics database; KPI (and, once they exist,
 * segment) queries through the gateway; real purchases through the ledger at a steady rate with
 * analytics' lag per event; a rebuild from position zero. See the analytics README, "Benchmark".
 */
export async function analyticsScenario(): Promise<Record<string, unknown>> {
  // The machine's load average before and after: figures from a busy machine are read with it in mind.
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const stack = await startStack({ members: STACK_MEMBERS });
  const { serverUrl, gatewayUrl, programId, tokens } = stack;
  const db = {
    analytics: new pg.Client({ connectionString: databaseUrl(serverUrl, 'analytics') }),
    ledger: new pg.Client({ connectionString: databaseUrl(serverUrl, 'ledger') }),
    members: new pg.Client({ connectionString: databaseUrl(serverUrl, 'members') }),
    // Consumers of analytics' announcements (segment entries): waited for before segment queries are timed.
    catalog: new pg.Client({ connectionString: databaseUrl(serverUrl, 'catalog') }),
    partners: new pg.Client({ connectionString: databaseUrl(serverUrl, 'partners') }),
  };
  try {
    await Promise.all(Object.values(db).map((c) => c.connect()));
    const admin = { authorization: `Bearer ${await tokens.staff({ programId, roles: ['ADMIN'], subject: 'bench-admin' })}` };
    const analyst = { authorization: `Bearer ${await tokens.staff({ programId, roles: ['ANALYST'], subject: 'bench-analyst' })}` };
    const agent = { authorization: `Bearer ${await tokens.staff({ programId, roles: ['AGENT'], subject: 'bench-agent' })}` };
    // 1 point per euro (the generator's rule too), double on fuel.
    await graphql(gatewayUrl, admin, `mutation($p: ID!) { publishEarningRules(input: { programId: $p, currency: "EUR", basePoints: 1, perAmount: "1.00", rounding: FLOOR, multipliers: [{ dimension: CATEGORY, value: "fuel", factor: "2" }] }) { ruleSet { version } } }`, { p: programId });
    // The seed's enrolments reach analytics first: the generated history is added to a caught-up projection.
    await consumerCaughtUp(db.analytics, 'analytics.members-events', db.members, 300_000);
    const memory: Record<string, MemoryReading> = { start: memoryOf(stack) };

    // 1. The generated history.
    const tierIds = ((await db.members.query(`SELECT id FROM tiers WHERE program_id = $1 ORDER BY rank`, [programId])).rows as { id: string }[]).map((r) => r.id);
    // A few partners, by id only: analytics knows partners from facts, never from partners' tables.
    const partnerIds = ['a11a00f1-0000-4000-8000-000000000001', 'a11a00f1-0000-4000-8000-000000000002', 'a11a00f1-0000-4000-8000-000000000003'];
    // Midnight UTC today: the same seed on the same day gives the same rows (and whole DAY buckets).
    const asOf = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
    console.log(`generating ${MEMBERS} members and ${PURCHASES} purchases (seed ${SEED})`);
    const generator = await generateHistory({
      url: databaseUrl(serverUrl, 'analytics'),
      programId,
      members: MEMBERS,
      purchases: PURCHASES,
      seed: SEED,
      tierIds,
      partnerIds,
      asOf,
      chunkMembers: GENERATOR_CHUNK,
      connections: GENERATOR_CONNECTIONS,
      log: console.log,
    });
    console.log(`generator: ${generator.seconds} s, ${generator.membersPerSecond} members/s, ${generator.factsPerSecond} facts/s`);
    memory['afterGenerator'] = memoryOf(stack);

    // 2. Queries through the gateway.
    const supergraph = readFileSync(stack.supergraphPath, 'utf8');
    const context: QueryContext = { programId, asOf, memberId: stack.memberIds[0]!, topTierId: tierIds[tierIds.length - 1]! };
    const queries: Record<string, unknown> = {};
    const viewers: Record<Viewer, Record<string, string>> = { analyst, agent };
    const run = async (list: NamedQuery[]) => {
      for (const q of list) {
        queries[q.name] = hasField(supergraph, q.needs.type, q.needs.field)
          ? await timeQuery(gatewayUrl, viewers[q.as ?? 'analyst'], q, context)
          : { available: false, reason: `the supergraph has no ${q.needs.type}.${q.needs.field}` };
        console.log(`${q.name}: ${JSON.stringify(queries[q.name])}`);
      }
    };
    // The KPIs first, on the generated history alone (as in earlier runs); then the segments they
    // do not read are made, and their entries' announcements consumed before the segment queries.
    await run(KPI_QUERIES);
    await run(FILTERED_KPI_QUERIES);
    const segmentSetup = hasField(supergraph, 'Mutation', 'createSegment') ? await ensureSegments(gatewayUrl, analyst, programId, tierIds) : { available: false, reason: 'the supergraph has no Mutation.createSegment' };
    for (const consumer of ['catalog', 'partners', 'ledger'] as const) await consumerCaughtUp(db[consumer], `${consumer}.analytics-events`, db.analytics, 600_000);
    console.log(`segments: ${JSON.stringify(segmentSetup)}`);
    await run(SEGMENT_QUERIES);
    // The same KPIs straight from the analytics service's SQL (no HTTP, gateway or GraphQL): how
    // much of the gateway's figure is the database's.
    queries['database only'] = await timeKpiService(databaseUrl(serverUrl, 'analytics'), context);
    console.log(`database only: ${JSON.stringify(queries['database only'])}`);
    memory['afterQueries'] = memoryOf(stack);

    // 3. Ingestion: the real path, ledger → outbox → feed → analytics' consumer.
    const ingestion = await ingest(stack, db, agent);
    console.log(`ingestion: ${JSON.stringify(ingestion)}`);
    memory['afterIngestion'] = memoryOf(stack);

    // 4. Rebuild from position zero (empties the facts, the generated ones included: it comes last).
    const rebuild = await rebuildFromZero(stack, db);
    console.log(`rebuild: ${JSON.stringify(rebuild)}`);
    memory['afterRebuild'] = memoryOf(stack);

    const kpiP95 = Object.fromEntries(KPI_QUERIES.map((q) => [q.name, (queries[q.name] as QueryTiming).latencyP95Ms]));
    return {
      scale: { members: MEMBERS, purchases: PURCHASES, label: `${MEMBERS.toLocaleString('en')} members / ${PURCHASES.toLocaleString('en')} purchases${MEMBERS < 1_000_000 ? ' (small scale; issue 12 asks for 1,000,000 / 10,000,000)' : ''}` },
      generator,
      segmentSetup,
      queries,
      queryRuns: QUERY_RUNS,
      ingestion,
      rebuild,
      memory,
      loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((l) => Number(l.toFixed(2))) },
      aim: `KPI and segment queries p95 < ${QUERY_P95_AIM_MS} ms through the gateway; ingestion keeps up with ${INGEST_RATE} accruals/s with lag p99 < ${LAG_P99_AIM_MS} ms`,
      aimMet: {
        kpiQueriesP95: Object.values(kpiP95).every((p95) => p95 < QUERY_P95_AIM_MS),
        filteredKpiQueriesP95: FILTERED_KPI_QUERIES.every((q) => ((queries[q.name] as QueryTiming).latencyP95Ms ?? Infinity) < QUERY_P95_AIM_MS),
        segmentQueriesP95: segmentAim(queries),
        ingestionKeptUp: ingestion.keptUp,
        lagP99: ingestion.lagMs.fromLedgerWrite.p99 < LAG_P99_AIM_MS,
      },
      note:
        'The generated history bypasses the event feed (10,000,000 purchases through the ledger would take hours): it is written into the analytics tables as the consumers would have written them. The ingestion figures measure the real path. Load generator, gateway, subgraphs and PostgreSQL share the same cores.',
    };
  } finally {
    await Promise.all(Object.values(db).map((c) => c.end().catch(() => undefined)));
    await stack.stop();
  }
}

/**
 * Makes BENCH_SEGMENTS when the program has no active segment, through the gateway as the analyst
 * would, then waits until no segment of the program is evaluating: a profile read while the
 * segment-evaluation job is still adding members would time a partial segment.
 */
async function ensureSegments(gatewayUrl: string, analyst: Record<string, string>, programId: string, tierIds: string[]) {
  type Listed = { program: { segments: { id: string; name: string; evaluating: boolean }[] } };
  const list = async () => ((await graphql(gatewayUrl, analyst, `query($p: ID!) { program(id: $p) { segments { id name evaluating } } }`, { p: programId })) as Listed).program.segments;
  const started = performance.now();
  const existing = await list();
  const created: string[] = [];
  if (!existing.length) {
    for (const segment of BENCH_SEGMENTS(tierIds)) {
      const { createSegment } = (await graphql(gatewayUrl, analyst, `mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id } userErrors { code message } } }`, {
        i: { programId, ...segment },
      })) as { createSegment: { segment: { id: string } | null; userErrors: { code: string; message: string }[] } };
      if (!createSegment.segment) throw new Error(`createSegment ${segment.name}: ${JSON.stringify(createSegment.userErrors)}`);
      created.push(segment.name);
    }
  }
  const deadline = Date.now() + SEGMENT_EVALUATION_TIMEOUT_MS;
  let segments = await list();
  while (segments.some((s) => s.evaluating) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    segments = await list();
  }
  return {
    available: true,
    existing: existing.length,
    created,
    segments: segments.length,
    evaluated: !segments.some((s) => s.evaluating),
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

/** 'not available' while no segment query can run; otherwise whether every one that ran has p95 under the aim. */
function segmentAim(queries: Record<string, unknown>): boolean | 'not available' {
  const ran = SEGMENT_QUERIES.map((q) => queries[q.name] as Partial<QueryTiming> & { available: boolean }).filter((r) => r.available);
  if (!ran.length) return 'not available';
  return ran.every((r) => (r.latencyP95Ms ?? Infinity) < QUERY_P95_AIM_MS);
}

interface QueryTiming {
  available: true;
  runs: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  maxMs: number;
  /** The first (cold) run, before the warm-up. */
  firstRunMs: number;
  failures: Record<string, number>;
  detail?: unknown;
}

/** Sequential runs (one at a time: latency, not throughput), after 3 untimed warm-up runs. */
async function timeQuery(url: string, headers: Record<string, string>, q: NamedQuery, context: QueryContext): Promise<QueryTiming | { available: true; error: string }> {
  const body = JSON.stringify({ query: q.query, variables: q.variables(context) });
  const once = async () => {
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const parsed = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    return { ms: performance.now() - started, failure: failed(response.status, parsed), parsed };
  };
  const first = await once();
  if (first.failure) {
    // A query the schema rejects (a hook whose selection no longer fits) is reported, not fatal.
    return { available: true, error: `${first.failure}: ${JSON.stringify((first.parsed?.['errors'] as unknown[] | undefined)?.[0] ?? first.parsed).slice(0, 400)}` };
  }
  const checked = q.check?.(first.parsed!['data'] as Record<string, unknown>);
  for (let i = 0; i < Math.min(3, q.runs ?? 3); i++) await once();
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  for (let i = 0; i < (q.runs ?? QUERY_RUNS); i++) {
    const run = await once();
    if (run.failure) failures[run.failure] = (failures[run.failure] ?? 0) + 1;
    else latencies.push(run.ms);
  }
  if (checked && !checked.ok) failures['empty answer'] = 1;
  return {
    available: true,
    runs: latencies.length,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP95Ms: percentile(latencies, 0.95),
    latencyP99Ms: percentile(latencies, 0.99),
    maxMs: percentile(latencies, 1),
    firstRunMs: Math.round(first.ms),
    failures,
    ...(checked ? { detail: checked.detail } : {}),
  };
}

/** The KPI queries through the analytics service class itself (services/kpis.ts) on its own connection, sequentially. */
async function timeKpiService(url: string, context: QueryContext): Promise<Record<string, unknown>> {
  const database = await openDatabase({ url, entities: [], migrations: [], applicationName: 'bench-kpis' });
  try {
    const kpis = new Kpis(database);
    const result: Record<string, unknown> = {};
    const runs = Math.max(5, Math.round(QUERY_RUNS / 5));
    for (const q of KPI_QUERIES) {
      const v = q.variables(context) as { period: Period; from: string; to: string };
      const latencies: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const started = performance.now();
        await kpis.buckets(context.programId, v.period, new Date(v.from), new Date(v.to));
        if (i > 0) latencies.push(performance.now() - started);
      }
      result[q.name] = { runs, latencyP50Ms: percentile(latencies, 0.5), latencyP95Ms: percentile(latencies, 0.95) };
    }
    return result;
  } finally {
    await database.destroy();
  }
}

/** Nearest-rank percentile, in whole milliseconds. */
function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!);
}

/** Whether the composed supergraph's type (definition or extension) has the field. */
function hasField(supergraph: string, type: string, field: string): boolean {
  return parse(supergraph).definitions.some(
    (d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === type && (d.fields ?? []).some((f) => f.name.value === field),
  );
}

/**
 * recordPurchase through the gateway at INGEST_RATE for INGEST_SECONDS, then the lag of each
 * answered purchase: when analytics wrote its ACCRUED fact (point_facts.recorded_at, analytics'
 * clock_timestamp()) minus when the ledger wrote the purchase (purchases.created_at, the start of
 * its transaction, so the figure includes the ledger's own commit and is conservative). Both
 * clocks are the same machine's. Also from the answer's arrival at the load generator.
 */
async function ingest(stack: BenchStack, db: { analytics: pg.Client; ledger: pg.Client }, agent: Record<string, string>) {
  const answeredAt = new Map<string, number>();
  const errors: Record<string, number> = {};
  let n = 0;
  // The consumer's lag in events, sampled each second: the producer's newest position minus analytics' position.
  const behind: number[] = [];
  const sampler = setInterval(() => {
    void (async () => {
      const head = (await db.ledger.query(`SELECT coalesce(max(position), 0)::bigint AS head FROM outbox`)).rows[0] as { head: string };
      const at = (await db.analytics.query(`SELECT position FROM event_consumers WHERE name = 'analytics.ledger-events'`)).rows[0] as { position: string } | undefined;
      behind.push(Number(head.head) - Number(at?.position ?? 0));
    })().catch(() => undefined);
  }, 1000);
  const result = await autocannon({
    url: stack.gatewayUrl,
    connections: INGEST_CONNECTIONS,
    duration: INGEST_SECONDS,
    overallRate: INGEST_RATE,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...agent },
    requests: [
      {
        setupRequest: (request: autocannon.Request) => ({ ...request, body: JSON.stringify({ query: RECORD, variables: { input: purchaseInput(stack.memberIds, n++) } }) }),
        onResponse: (status: number, body: string) => {
          let parsed: Record<string, unknown> | null = null;
          try {
            parsed = JSON.parse(body) as Record<string, unknown>;
          } catch {
            // counted below
          }
          const failure = failed(status, parsed);
          const payload = failure ? null : (parsed!['data'] as { recordPurchase: { purchase: { id: string } | null; userErrors: { code: string }[] } }).recordPurchase;
          const code = failure ?? payload?.userErrors[0]?.code ?? (payload?.purchase ? null : 'no purchase');
          if (code) errors[code] = (errors[code] ?? 0) + 1;
          else answeredAt.set(payload!.purchase!.id, Date.now());
        },
      },
    ],
  });
  const loadEnded = Date.now();
  const caughtUpAt = await consumerCaughtUp(db.analytics, 'analytics.ledger-events', db.ledger, 300_000);
  clearInterval(sampler);
  if (result.errors) errors['transport errors'] = result.errors;
  if (result.timeouts) errors['timeouts'] = result.timeouts;

  const written = (await db.ledger.query(`SELECT id::text, extract(epoch FROM created_at) * 1000 AS at FROM purchases WHERE source = $1`, [SOURCE])).rows as { id: string; at: string }[];
  const facts = (await db.analytics.query(`SELECT purchase_id::text AS id, extract(epoch FROM recorded_at) * 1000 AS at FROM point_facts WHERE kind = 'ACCRUED' AND purchase_id = ANY($1::uuid[])`, [written.map((w) => w.id)]))
    .rows as { id: string; at: string }[];
  const recorded = new Map(facts.map((f) => [f.id, Number(f.at)]));
  const fromLedgerWrite: number[] = [];
  const fromAnswer: number[] = [];
  let missing = 0;
  for (const w of written) {
    const at = recorded.get(w.id);
    if (at === undefined) {
      missing++;
      continue;
    }
    fromLedgerWrite.push(at - Number(w.at));
    const answered = answeredAt.get(w.id);
    if (answered !== undefined) fromAnswer.push(at - answered);
  }
  const summary = (values: number[]) => ({ p50: percentile(values, 0.5), p95: percentile(values, 0.95), p99: percentile(values, 0.99), max: percentile(values, 1) });
  const accrualsPerSecond = Math.round(answeredAt.size / INGEST_SECONDS);
  const drainSeconds = Number(((caughtUpAt - loadEnded) / 1000).toFixed(2));
  const lag = { fromLedgerWrite: summary(fromLedgerWrite), fromAnswer: summary(fromAnswer) };
  return {
    targetRate: INGEST_RATE,
    connections: INGEST_CONNECTIONS,
    seconds: INGEST_SECONDS,
    accrualsPerSecond,
    answered: answeredAt.size,
    errors,
    purchasesWritten: written.length,
    factsFound: written.length - missing,
    missing,
    lagMs: lag,
    consumerBehindEvents: { max: behind.length ? Math.max(...behind) : null, samples: behind.length },
    drainSecondsAfterLoad: drainSeconds,
    // Kept up: the ledger took (nearly) the whole rate, every purchase became a fact, and the backlog at the end was gone within the lag aim.
    keptUp: accrualsPerSecond >= INGEST_RATE * 0.95 && missing === 0 && drainSeconds * 1000 < LAG_P99_AIM_MS,
    lagDefinition:
      'fromLedgerWrite: point_facts.recorded_at (analytics, clock_timestamp() at insert) − ledger purchases.created_at (the start of recordPurchase\'s transaction): includes the ledger\'s commit, numbering, the feed and the consumer. fromAnswer: the same fact time − when the load generator read the answer (can be negative).',
  };
}

function purchaseInput(memberIds: string[], n: number) {
  const id = randomUUID();
  // Baskets of varied size, two channels (as the generated history).
  const amount = (5 + ((n * 7919) % 9500) / 100).toFixed(2);
  return {
    idempotencyKey: `${SOURCE}-${id}`,
    memberId: memberIds[n % memberIds.length],
    source: SOURCE,
    externalId: id,
    basket: { currency: 'EUR', channel: n % 3 === 0 ? 'ONLINE' : 'STORE', lines: [{ lineId: '1', sku: 'GROCERIES', category: 'food', quantity: 1, amount }] },
  };
}

/**
 * The README's rebuild: empty the facts and member_state, rewind both consumers to zero with
 * forget (the kit's EventConsumer.rewind, what an operator runs), and time the live analytics
 * process catching up with members' and the ledger's feeds. The facts that came through the feeds
 * (the seed's enrolments, the ingested purchases) must come back exactly; the generated ones do not
 * (they never were events).
 */
async function rebuildFromZero(stack: BenchStack, db: { analytics: pg.Client; ledger: pg.Client; members: pg.Client }) {
  const like = `${SYNTHETIC_ID_PREFIX}%`;
  const fingerprint = async () =>
    (
      await db.analytics.query(
        `SELECT (SELECT count(*) FROM point_facts WHERE member_id::text NOT LIKE $1)::int AS "pointFacts",
                (SELECT coalesce(sum(issuance_points), 0) FROM point_facts WHERE member_id::text NOT LIKE $1)::text AS "issuancePoints",
                (SELECT count(*) FROM member_facts WHERE member_id::text NOT LIKE $1)::int AS "memberFacts",
                (SELECT coalesce(sum(points_balance), 0) FROM member_state WHERE member_id::text NOT LIKE $1)::text AS "balances"`,
        [like],
      )
    ).rows[0] as Record<string, unknown>;
  const before = await fingerprint();
  const analytics = await openDatabase({ url: databaseUrl(stack.serverUrl, 'analytics'), entities: [], migrations: [], applicationName: 'bench-rebuild' });
  const logger = createLogger('bench', 'warn');
  const consumers = ['members', 'ledger'].map(
    (producer) =>
      new EventConsumer({
        name: `analytics.${producer}-events`,
        db: analytics,
        // Only rewind() is called here: the running analytics process does the reading.
        source: new HttpEventSource(producer, () => stack.subgraphUrls[producer]!, stack.internalSecret, `analytics.${producer}-events`),
        handlers: {},
        clock: systemClock,
        logger,
      }),
  );
  try {
    const truncateStarted = performance.now();
    await db.analytics.query(`TRUNCATE ${FACT_TABLES.join(', ')}`);
    const truncateSeconds = (performance.now() - truncateStarted) / 1000;
    const started = performance.now();
    for (const consumer of consumers) await consumer.rewind(0, { forget: true });
    await consumerCaughtUp(db.analytics, 'analytics.members-events', db.members, 600_000);
    await consumerCaughtUp(db.analytics, 'analytics.ledger-events', db.ledger, 600_000);
    const seconds = (performance.now() - started) / 1000;
    const [applied] = (
      await db.analytics.query(
        `SELECT count(*)::int AS n, extract(epoch FROM max(processed_at) - min(processed_at))::float8 AS span
         FROM processed_events WHERE consumer IN ('analytics.members-events', 'analytics.ledger-events')`,
      )
    ).rows as { n: number; span: number | null }[];
    const after = await fingerprint();
    return {
      eventsApplied: applied!.n,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(applied!.n / seconds),
      // From the first event applied to the last (processed_at): without the wait for the running
      // consumers' long polls to return and notice the rewind, which the wall time above includes.
      applyingSeconds: Number((applied!.span ?? 0).toFixed(2)),
      eventsPerSecondApplying: applied!.span ? Math.round(applied!.n / applied!.span) : null,
      truncateSeconds: Number(truncateSeconds.toFixed(2)),
      factsFromEventsBefore: before,
      factsFromEventsAfter: after,
      sameFacts: JSON.stringify(before) === JSON.stringify(after),
      definition:
        "eventsPerSecond: events applied (processed_events of both consumers after the rewind) over the wall time from the rewind until both consumers reached their producers' heads, in the running analytics process. eventsPerSecondApplying: the same events over the time between the first and the last applied.",
    };
  } finally {
    await analytics.destroy();
  }
}

interface MemoryReading {
  rssMb: number;
  peakRssMb: number;
}

/** The analytics process's resident memory now and its peak so far (VmRSS, VmHWM). */
function memoryOf(stack: BenchStack): MemoryReading {
  const status = readFileSync(`/proc/${stack.pids()['analytics']}/status`, 'utf8');
  const mb = (key: string) => Math.round(Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024);
  return { rssMb: mb('VmRSS'), peakRssMb: mb('VmHWM') };
}
