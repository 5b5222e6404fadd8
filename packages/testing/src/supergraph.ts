import { randomBytes } from 'node:crypto';
import { ManualClock, createLogger, createViewerSigner, serviceViewer, VIEWER_HEADER, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import type { EventConsumer } from '@loyalty-graph/shared/events';
import { httpEventTransport, startSubgraphServer, type Scheduler, type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { createAuthenticator, createDevTokenIssuer, startGateway, type DevTokenIssuer } from '@loyalty-graph/gateway';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import type { DataSource } from 'typeorm';
import { bearer, caller, type Caller } from './client';
import { createTestDatabase, StatementCounter, type TestDatabase } from './database';

export interface RunningSubgraph {
  name: string;
  url: string;
  db: DataSource;
  /** Every SQL statement this subgraph sent (reset it before the part you measure). */
  statements: StatementCounter;
  /** Calls the subgraph directly, as the gateway would, with the given viewer. */
  as(viewer: Viewer): Promise<Caller>;
  /** Runs every scheduled job of the subgraph once; returns how much each did. */
  runJobs(): Promise<Record<string, number>>;
  /** The subgraph's scheduler, when it has jobs (tick it after moving the clock). */
  scheduler: Scheduler | undefined;
  /** The other subgraphs' events this one consumes (registered, not started: tests deliver by hand). */
  consumers: EventConsumer[];
  stop(): Promise<void>;
}

/** One subgraph on a free port with its own fresh database and a clock the test controls. */
export async function startTestSubgraph(
  module: SubgraphModule<ViewerContext>,
  options: { internalSecret?: string; clock?: ManualClock; peers?: Record<string, string> } = {},
): Promise<RunningSubgraph & { clock: ManualClock; internalSecret: string; database: TestDatabase }> {
  const internalSecret = options.internalSecret ?? randomBytes(32).toString('hex');
  const clock = options.clock ?? new ManualClock();
  const database = await createTestDatabase(module.name);
  const statements = new StatementCounter();
  const db = await openDatabase({ url: database.url, entities: module.database.entities, migrations: module.database.migrations, applicationName: module.name, logger: statements });
  const logger = createLogger(module.name, process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent');
  const peers = options.peers ?? {};
  const subgraph = module.create({ db, clock, logger, internalSecret, introspection: true, peers, events: httpEventTransport(peers, internalSecret) });
  await subgraph.scheduler?.register();
  for (const consumer of subgraph.consumers ?? []) await consumer.register();
  const server = await startSubgraphServer(subgraph, 0);
  const sign = createViewerSigner(internalSecret);
  return {
    name: module.name,
    url: server.url,
    db,
    statements,
    clock,
    internalSecret,
    database,
    as: async (viewer) => caller(server.url, { [VIEWER_HEADER]: await sign(viewer) }),
    // Tests run scheduled work by hand, after moving the clock, instead of waiting for timers.
    scheduler: subgraph.scheduler,
    consumers: subgraph.consumers ?? [],
    runJobs: async () => {
      const done: Record<string, number> = {};
      for (const job of subgraph.jobs ?? []) done[job.name] = await job.run();
      return done;
    },
    async stop() {
      await subgraph.feed?.close();
      await server.stop();
      await db.destroy();
      await database.drop();
    },
  };
}

export interface TestSupergraph {
  gatewayUrl: string;
  subgraphs: Record<string, RunningSubgraph>;
  clock: ManualClock;
  tokens: DevTokenIssuer;
  /** The development JWT secret the gateway trusts (for tests that craft unusual tokens). */
  jwt: { secret: string; issuer: string; audience: string };
  anonymous: Caller;
  /** A caller presenting the given access token. */
  withToken(token: string): Caller;
  /** Callers for the usual roles. */
  asMember(programId: string, memberId: string | null, subject?: string): Promise<Caller>;
  asStaff(programId: string | null, roles: ('ADMIN' | 'AGENT' | 'FULFILMENT' | 'ANALYST')[], subject?: string): Promise<Caller>;
  /** A platform operator (ADMIN bound to no program). */
  asOperator(): Promise<Caller>;
  /**
   * Delivers every pending event to every consumer, again and again until nothing moves (a
   * ledger event can make members emit one the ledger consumes). Returns how many were read.
   */
  deliverEvents(): Promise<number>;
  /** Calls a subgraph directly as an internal service (e.g. seeding). */
  service(name: string): Promise<Caller>;
  stop(): Promise<void>;
}

/** All subgraphs and the gateway on free ports, each subgraph with its own fresh database. */
export async function startSupergraph(): Promise<TestSupergraph> {
  const internalSecret = randomBytes(32).toString('hex');
  const jwtSecret = randomBytes(32).toString('hex');
  const clock = new ManualClock();
  const running: RunningSubgraph[] = [];
  // One map shared by all: a subgraph started early finds the ones started after it (members
  // reads the ledger's events, the ledger calls members).
  const peers: Record<string, string> = {};
  for (const module of SUBGRAPHS) {
    const subgraph = await startTestSubgraph(module, { internalSecret, clock, peers });
    peers[subgraph.name] = subgraph.url;
    running.push(subgraph);
  }
  const issuer = 'loyalty-graph-test';
  const audience = 'loyalty-graph';
  const gateway = await startGateway(
    {
      subgraphs: running.map(({ name, url }) => ({ name, url })),
      authenticate: createAuthenticator({ issuer, audience, secret: jwtSecret }),
      internalSecret,
      logger: createLogger('gateway', 'silent'),
      development: true,
    },
    0,
  );
  const tokens = createDevTokenIssuer({ secret: jwtSecret, issuer, audience });
  const withToken = (token: string) => caller(gateway.url, bearer(token));
  let n = 0;
  const subject = (prefix: string) => `${prefix}-${++n}`;
  return {
    gatewayUrl: gateway.url,
    subgraphs: Object.fromEntries(running.map((s) => [s.name, s])),
    clock,
    tokens,
    jwt: { secret: jwtSecret, issuer, audience },
    anonymous: caller(gateway.url, {}),
    withToken,
    asMember: async (programId, memberId, sub) => withToken(await tokens.member({ programId, memberId, subject: sub ?? subject('member') })),
    asStaff: async (programId, roles, sub) => withToken(await tokens.staff({ programId, roles, subject: sub ?? subject('staff') })),
    asOperator: async () => withToken(await tokens.staff({ programId: null, roles: ['ADMIN'], subject: subject('operator') })),
    async deliverEvents() {
      let total = 0;
      for (let round = 0; round < 20; round++) {
        let read = 0;
        for (const subgraph of running) for (const consumer of subgraph.consumers) read += await consumer.drain();
        total += read;
        if (read === 0) return total;
      }
      throw new Error('events kept flowing after 20 rounds of delivery');
    },
    service: (name) => running.find((s) => s.name === name)!.as(serviceViewer('test')),
    async stop() {
      await gateway.stop();
      for (const subgraph of running) await subgraph.stop();
    },
  };
}
