import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevTokenIssuer } from '@loyalty-graph/gateway';
import { seedDemo } from '@loyalty-graph/members';
import { systemClock } from '@loyalty-graph/shared';
import { databaseUrl, ensureDatabase, openDatabase } from '@loyalty-graph/shared/db';
import { startEmbeddedPostgres, type RunningPostgres } from '@loyalty-graph/testing/embedded-postgres';
import { startTestIdentityProvider } from '@loyalty-graph/testing/jwks';
import { composeSupergraph, SUBGRAPHS } from '@loyalty-graph/supergraph';
import { freePort } from '../packages/testing/src/global-setup';
import { buildServices } from '../scripts/build';
import { BENCH_GATEWAY_BUDGETS } from './lib';
import { generateSecret, spawnService, type ServiceProcess } from '../scripts/lib/services';

export interface BenchStack {
  serverUrl: string;
  gatewayUrl: string;
  programId: string;
  /** The demo program's e-mail domain (member1@<domain> …). */
  emailDomain: string;
  /** Each subgraph's URL, by name, and the secret of the internal viewer token they trust. */
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  /** The composed supergraph routing to this stack's subgraphs, and the identity provider the gateway trusts. */
  supergraphPath: string;
  identityProvider: { jwksUrl: string; issuer: string; audience: string };
  /** Stops the gateway and starts it again on the same port (a deploy; the cold-start figures). */
  restartGateway(extraEnv?: Record<string, string>): Promise<void>;
  /** The demo program's members, in id order. */
  memberIds: string[];
  tokens: DevTokenIssuer;
  /** Stops one subgraph (SIGTERM) and starts it again on the same port, as a deploy would. */
  stopSubgraph(name: string): Promise<void>;
  startSubgraph(name: string): Promise<void>;
  /** The running services' process ids, by name (gateway, members, ledger…). */
  pids(): Record<string, number>;
  /** Stops the services, keeps the database (the harness reuses it). */
  stopServices(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What the benchmarks measure against: PostgreSQL (embedded unless DATABASE_URL), the demo seed,
 * and every service as its production bundle in its own process behind the gateway.
 */
export async function startStack(options: { members: number; postgresSettings?: Record<string, string> }): Promise<BenchStack> {
  await buildServices();
  const external = process.env['DATABASE_URL'];
  const embedded: RunningPostgres | null = external
    ? null
    : await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'lg-bench-pg-')), port: await freePort(), persistent: false, durable: true, settings: options.postgresSettings });
  const serverUrl = external ?? embedded!.url;
  const services = new Map<string, ServiceProcess>();
  const internalSecret = generateSecret();
  // Production verifies tokens only against an identity provider's key set (docs/identity.md): one on loopback.
  const idp = await startTestIdentityProvider();
  const members = SUBGRAPHS.find((m) => m.name === 'members')!;
  await ensureDatabase(serverUrl, members.database.name);
  const membersDb = await openDatabase({ url: databaseUrl(serverUrl, members.database.name), entities: members.database.entities, migrations: members.database.migrations, applicationName: 'bench-seed' });
  const [program] = await seedDemo(membersDb, systemClock, options.members);
  const memberIds = ((await membersDb.query(`SELECT id FROM members WHERE program_id = $1 ORDER BY id LIMIT $2`, [program!.id, options.members])) as { id: string }[]).map((r) => r.id);
  await membersDb.destroy();

  // With EVENT_TRANSPORT=nats, this run's streams are its own (the database is new, so must they be).
  const nats: Record<string, string> = process.env['EVENT_TRANSPORT'] === 'nats' ? { NATS_STREAM_PREFIX: `BENCH${Date.now()}` } : {};
  // Production refuses to start the catalog without its voucher codes' key: a fresh one per run, like the internal secret.
  const codeKey = randomBytes(32).toString('base64');
  // Likewise partners without its webhook secrets' key.
  const webhookKey = randomBytes(32).toString('base64');
  const env: Record<string, string> = { DATABASE_URL: serverUrl, INTERNAL_TOKEN_SECRET: internalSecret, CATALOG_CODE_KEY: codeKey, PARTNERS_WEBHOOK_KEY: webhookKey, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...nats };
  const urls: Record<string, string> = {};
  for (const module of SUBGRAPHS) urls[module.name] = `http://127.0.0.1:${await freePort()}/graphql`;
  const peers = Object.entries(urls).map(([name, url]) => `${name}=${url}`).join(',');
  const startSubgraph = async (name: string) => {
    const service = spawnService(name, `subgraphs/${name}/dist/main.mjs`, { ...env, PORT: new URL(urls[name]!).port, SUBGRAPH_URLS: peers });
    services.set(name, service);
    await service.ready(urls[name]!);
  };
  for (const module of SUBGRAPHS) await startSubgraph(module.name);
  const supergraphPath = join(mkdtempSync(join(tmpdir(), 'lg-bench-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composeSupergraph(SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: urls[m.name]! }))));
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
  const startGateway = async (extraEnv: Record<string, string> = {}) => {
    const gateway = spawnService('gateway', 'gateway/dist/main.mjs', { ...env, ...BENCH_GATEWAY_BUDGETS, ...extraEnv, PORT: String(gatewayPort), SUPERGRAPH_PATH: supergraphPath, JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.audience });
    services.set('gateway', gateway);
    await gateway.ready(gatewayUrl);
  };
  await startGateway();
  // The seed announced every member; measuring starts once the ledger's member snapshots hold them all.
  const ledgerClient = new pg.Client({ connectionString: databaseUrl(serverUrl, 'ledger') });
  const membersClient = new pg.Client({ connectionString: databaseUrl(serverUrl, 'members') });
  await Promise.all([ledgerClient.connect(), membersClient.connect()]);
  await consumerCaughtUp(ledgerClient, 'ledger.members-events', membersClient, 300_000);
  await Promise.all([ledgerClient.end(), membersClient.end()]);

  const stopServices = async () => {
    for (const service of [...services.values()].reverse()) await service.stop();
    services.clear();
  };
  return {
    serverUrl,
    gatewayUrl,
    programId: program!.id,
    emailDomain: program!.emailDomain,
    subgraphUrls: urls,
    internalSecret,
    supergraphPath,
    identityProvider: { jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: idp.audience },
    async restartGateway(extraEnv) {
      await services.get('gateway')?.stop();
      await startGateway(extraEnv);
    },
    memberIds,
    tokens: idp,
    async stopSubgraph(name) {
      await services.get(name)?.stop();
      services.delete(name);
    },
    startSubgraph,
    stopServices,
    pids: () => Object.fromEntries([...services].map(([name, service]) => [name, service.child.pid!])),
    async stop() {
      await stopServices();
      await idp.stop();
      await embedded?.stop();
    },
  };
}

export async function graphql(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Waits until members has applied everything the ledger has numbered and nothing waits to be numbered; returns when. */
export function caughtUp(membersDb: pg.Client, ledgerDb: pg.Client, timeoutMs: number): Promise<number> {
  return consumerCaughtUp(membersDb, 'members.ledger-events', ledgerDb, timeoutMs);
}

/** Waits until a consumer has applied everything its producer has numbered and nothing waits to be numbered; returns when. */
export async function consumerCaughtUp(consumerDb: pg.Client, consumer: string, producerDb: pg.Client, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const head = (await producerDb.query(`SELECT coalesce(max(position), 0)::bigint AS head, count(*) FILTER (WHERE position IS NULL) AS waiting FROM outbox`)).rows[0] as { head: string; waiting: string };
    const at = (await consumerDb.query(`SELECT position FROM event_consumers WHERE name = $1`, [consumer])).rows[0] as { position: string } | undefined;
    if (at && Number(head.waiting) === 0 && Number(at.position) >= Number(head.head)) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${consumer} did not catch up with its producer in time`);
}
