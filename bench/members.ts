import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '@loyalty-graph/members';
import { createViewerSigner, systemClock, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import { databaseUrl, ensureDatabase, openDatabase } from '@loyalty-graph/shared/db';
import { startEmbeddedPostgres } from '@loyalty-graph/testing/embedded-postgres';
import { startTestIdentityProvider } from '@loyalty-graph/testing/jwks';
import { composeSupergraph, SUBGRAPHS } from '@loyalty-graph/supergraph';
import { freePort } from '../packages/testing/src/global-setup';
import { buildServices } from '../scripts/build';
import { generateSecret, spawnService } from '../scripts/lib/services';
import { BENCH_GATEWAY_BUDGETS, load, mean, peakRssMb, type LoadResult } from './lib';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

const QUERY = `query LookUp($programId: ID!, $value: String!) {
  memberByIdentifier(programId: $programId, type: EMAIL, value: $value) { id status firstName tier { name rank } }
}`;

/**
 * memberByIdentifier through the gateway and straight to the members subgraph, in alternating
 * rounds of the same run, with the same agent as caller. Each service is its own process running
 * its production bundle; the gateway's peak RSS (VmHWM) is read from /proc.
 */
export async function membersScenario(): Promise<Record<string, unknown>> {
  // Measure what production runs: the esbuild bundles on plain node.
  await buildServices();
  const external = process.env['DATABASE_URL'];
  const embedded = external ? null : await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'lg-bench-pg-')), port: await freePort(), persistent: false, durable: true });
  const serverUrl = external ?? embedded!.url;
  const internalSecret = generateSecret();
  // Production verifies tokens only against an identity provider's key set (docs/identity.md): one on loopback.
  const idp = await startTestIdentityProvider();
  const members = SUBGRAPHS.find((m) => m.name === 'members')!;
  const services = [];
  try {
    await ensureDatabase(serverUrl, members.database.name);
    const db = await openDatabase({ url: databaseUrl(serverUrl, members.database.name), entities: members.database.entities, migrations: members.database.migrations, applicationName: 'bench-seed' });
    const [program] = await seedDemo(db, systemClock);
    await db.destroy();

    const env = { DATABASE_URL: serverUrl, INTERNAL_TOKEN_SECRET: internalSecret, NODE_ENV: 'production', LOG_LEVEL: 'warn' };
    const subgraphPort = await freePort();
    const subgraphUrl = `http://127.0.0.1:${subgraphPort}/graphql`;
    const subgraph = spawnService('members', 'subgraphs/members/dist/main.mjs', { ...env, PORT: String(subgraphPort) });
    services.push(subgraph);
    await subgraph.ready(subgraphUrl);

    const supergraphPath = join(mkdtempSync(join(tmpdir(), 'lg-bench-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: subgraphUrl }))));
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    const gateway = spawnService('gateway', 'gateway/dist/main.mjs', {
      ...env,
      ...BENCH_GATEWAY_BUDGETS,
      PORT: String(gatewayPort),
      SUPERGRAPH_PATH: supergraphPath,
      JWKS_URL: idp.jwksUrl,
      JWT_ISSUER: idp.issuer,
      JWT_AUDIENCE: idp.audience,
    });
    services.push(gateway);
    await gateway.ready(gatewayUrl);
    // The same gateway with its limits off, in the same run: what pricing and budgets cost.
    const bareGatewayPort = await freePort();
    const bareGatewayUrl = `http://127.0.0.1:${bareGatewayPort}/graphql`;
    const bareGateway = spawnService('gateway-bare', 'gateway/dist/main.mjs', { ...env, GATEWAY_LIMITS: 'off', PORT: String(bareGatewayPort), SUPERGRAPH_PATH: supergraphPath, JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.audience }, { quiet: true });
    services.push(bareGateway);
    await bareGateway.ready(bareGatewayUrl);

    const subject = 'bench-agent';
    const jwt = await idp.staff({ programId: program!.id, roles: ['AGENT'], subject });
    // The internal token lives a minute: signed again before every direct round (the signer reuses it while fresh).
    const signInternal = createViewerSigner(internalSecret);
    const agentViewer = { kind: 'STAFF', subject, programId: program!.id, memberId: null, partnerId: null, roles: ['AGENT'], scopes: [] } satisfies Viewer;
    const internal = await signInternal(agentViewer);
    const targets = {
      gateway: { url: gatewayUrl, headers: { authorization: `Bearer ${jwt}` } },
      gatewayWithoutLimits: { url: bareGatewayUrl, headers: { authorization: `Bearer ${jwt}` } },
      direct: { url: subgraphUrl, headers: { [VIEWER_HEADER]: internal } },
    };
    const bodies = Array.from({ length: program!.members }, (_, i) => JSON.stringify({ query: QUERY, variables: { programId: program!.id, value: `member${i + 1}@${program!.emailDomain}` } }));

    // Both paths must answer with data, or the figures would measure error handling.
    for (const [name, target] of Object.entries(targets)) {
      const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body: bodies[0] });
      const body = (await response.json()) as { data?: { memberByIdentifier?: { id: string } }; errors?: unknown };
      if (!body.data?.memberByIdentifier?.id) throw new Error(`${name} did not answer the benchmark query: ${JSON.stringify(body)}`);
    }

    console.log(`warming up, then ${ROUNDS} alternating rounds of ${SECONDS}s at ${CONNECTIONS} connections`);
    await load({ ...targets.direct, bodies, connections: CONNECTIONS, seconds: 3 });
    await load({ ...targets.gateway, bodies, connections: CONNECTIONS, seconds: 3 });
    await load({ ...targets.gatewayWithoutLimits, bodies, connections: CONNECTIONS, seconds: 3 });
    const rounds: { direct: LoadResult; gateway: LoadResult; gatewayWithoutLimits: LoadResult }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      targets.direct.headers = { [VIEWER_HEADER]: await signInternal(agentViewer) };
      const direct = await load({ ...targets.direct, bodies, connections: CONNECTIONS, seconds: SECONDS });
      // Alternate which gateway goes first, so neither always follows the subgraph's own round.
      const pair = round % 2 === 0 ? (['gateway', 'gatewayWithoutLimits'] as const) : (['gatewayWithoutLimits', 'gateway'] as const);
      const measured: Partial<Record<(typeof pair)[number], LoadResult>> = {};
      for (const name of pair) measured[name] = await load({ ...targets[name], bodies, connections: CONNECTIONS, seconds: SECONDS });
      const viaGateway = measured.gateway!;
      const bare = measured.gatewayWithoutLimits!;
      rounds.push({ direct, gateway: viaGateway, gatewayWithoutLimits: bare });
      console.log(`round ${round + 1}: direct ${direct.requestsPerSecond} req/s (p99 ${direct.latencyP99Ms} ms), gateway ${viaGateway.requestsPerSecond} req/s (p99 ${viaGateway.latencyP99Ms} ms), gateway with limits off ${bare.requestsPerSecond} req/s`);
    }
    const failures = rounds.reduce((n, r) => n + r.direct.errors + r.direct.non2xx + r.gateway.errors + r.gateway.non2xx + r.gatewayWithoutLimits.errors + r.gatewayWithoutLimits.non2xx, 0);
    const directRps = mean(rounds.map((r) => r.direct.requestsPerSecond));
    const gatewayRps = mean(rounds.map((r) => r.gateway.requestsPerSecond));
    const bareRps = mean(rounds.map((r) => r.gatewayWithoutLimits.requestsPerSecond));
    const gatewayPeakRssMb = peakRssMb(gateway.child.pid!);
    return {
      query: 'memberByIdentifier (EMAIL), rotating over the demo program members',
      connections: CONNECTIONS,
      secondsPerRound: SECONDS,
      rounds,
      direct: { requestsPerSecond: directRps, latencyP99Ms: mean(rounds.map((r) => r.direct.latencyP99Ms)) },
      gateway: { requestsPerSecond: gatewayRps, latencyP99Ms: mean(rounds.map((r) => r.gateway.latencyP99Ms)), peakRssMb: gatewayPeakRssMb },
      gatewayWithoutLimits: { requestsPerSecond: bareRps },
      gatewayToDirectRatio: Number((gatewayRps / directRps).toFixed(3)),
      /** What pricing every operation and charging its caller's budget costs in throughput. */
      limitsThroughputCost: Number((1 - gatewayRps / bareRps).toFixed(3)),
      failedRequests: failures,
      aims: { ratioAtLeast: 0.6, gatewayRssUnderMb: 256, limitsThroughputCostUnder: 0.05 },
      aimsMet: gatewayRps / directRps >= 0.6 && gatewayPeakRssMb < 256 && failures === 0 && 1 - gatewayRps / bareRps < 0.05,
      note: 'Load generator, gateway, subgraph and PostgreSQL share the same 2 cores.',
    };
  } finally {
    for (const service of services.reverse()) await service.stop();
    await idp.stop();
    await embedded?.stop();
  }
}
