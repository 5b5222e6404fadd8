import { randomBytes } from 'node:crypto';
import { ManualClock, createLogger, createViewerSigner, VIEWER_HEADER, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { openDatabase } from '@loyalty-graph/shared/db';
import type { EventConsumer } from '@loyalty-graph/shared/events';
import type { Scheduler } from '@loyalty-graph/shared/jobs';
import { httpEventTransport, launchSubgraph, type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { caller, type Caller } from './client';
import { createTestDatabase, StatementCounter, type TestDatabase } from './database';

export interface RunningSubgraph {
  name: string;
  url: string;
  db: DataSource;
  /** Its database (another instance of the subgraph, or a child process, can share it). */
  database: TestDatabase;
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

/**
 * One subgraph on a free port with its own fresh database and a clock the test controls. With
 * `database`, a second instance (a replica) of a subgraph already running on that database: it
 * shares its rows, and stopping it leaves the database to its owner. Fault tests use one to call
 * peers through a proxy they break.
 */
export async function startTestSubgraph(
  module: SubgraphModule<ViewerContext>,
  options: { internalSecret?: string; clock?: ManualClock; peers?: Record<string, string>; database?: TestDatabase } = {},
): Promise<RunningSubgraph & { clock: ManualClock; internalSecret: string }> {
  const internalSecret = options.internalSecret ?? randomBytes(32).toString('hex');
  const clock = options.clock ?? new ManualClock();
  const shared = options.database !== undefined;
  const database = options.database ?? (await createTestDatabase(module.name));
  const statements = new StatementCounter();
  const db = await openDatabase({ url: database.url, entities: module.database.entities, migrations: module.database.migrations, applicationName: module.name, logger: statements });
  const logger = createLogger(module.name, process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent');
  const peers = options.peers ?? {};
  // The same start and stop sequence as a service, without the background loops.
  const { server, subgraph, stop } = await launchSubgraph(module, { db, clock, logger, internalSecret, introspection: true, peers, events: httpEventTransport(peers, internalSecret) }, { port: 0, background: false });
  const sign = createViewerSigner(internalSecret);
  return {
    name: module.name,
    url: server.url,
    db,
    statements,
    clock,
    internalSecret,
    database,
    // Signed again before each request once near expiry (the signer caches), as the gateway does.
    as: async (viewer) => caller(server.url, async () => ({ [VIEWER_HEADER]: await sign(viewer) })),
    // Tests run scheduled work by hand, after moving the clock, instead of waiting for timers.
    scheduler: subgraph.scheduler,
    consumers: subgraph.consumers ?? [],
    runJobs: async () => {
      const done: Record<string, number> = {};
      for (const job of subgraph.jobs ?? []) done[job.name] = await job.run();
      return done;
    },
    // Once: a test may stop one subgraph early (to show the others work without it), and the
    // supergraph's stop comes afterwards.
    stop: once(async () => {
      await stop();
      if (!shared) await database.drop();
    }),
  };
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= run());
}
