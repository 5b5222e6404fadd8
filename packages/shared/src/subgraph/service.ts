import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { z } from 'zod';
import type { ViewerContext } from '../access';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { databaseUrl, ensureDatabase, openDatabase } from '../db';
import { envFields, parseEnv, parseServiceList } from '../env';
import { createLogger, type Logger } from '../logger';
import { onShutdown } from '../process';
import { startSubgraphServer, type SubgraphServerOptions } from './subgraph-server';

export interface SubgraphDeps {
  db: DataSource;
  clock: Clock;
  logger: Logger;
  internalSecret: string;
  introspection: boolean;
  /** Other subgraphs' URLs by name, for direct service-to-service calls (never via the gateway). */
  peers: Record<string, string>;
}

/** The standard ports (ARCHITECTURE.md), used when SUBGRAPH_URLS does not name a peer. */
const STANDARD_PORTS: Record<string, number> = { members: 4001, ledger: 4002, catalog: 4003, partners: 4004, analytics: 4005 };

/**
 * A peer's GraphQL URL, looked up when needed rather than at start: peers may start after this
 * subgraph (and tests fill the map as they start them).
 */
export function peerUrl(peers: Record<string, string>, name: string): () => string {
  return () => peers[name] ?? `http://127.0.0.1:${STANDARD_PORTS[name] ?? 4000}/graphql`;
}

/**
 * What a subgraph package exports so the same code can run it as a service (`main.ts`), inside
 * `pnpm dev`, and in tests: its name, port, database and a factory without side effects.
 */
export interface SubgraphModule<TContext extends ViewerContext = ViewerContext> {
  name: string;
  defaultPort: number;
  /** The subgraph's SDL (schema.graphql), used by the server and by composition. */
  typeDefs: string;
  database: {
    /** The subgraph's own database on the server: subgraphs never share tables. */
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    entities: MixedList<Function | string | EntitySchema>;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    migrations: MixedList<Function | string>;
  };
  create(deps: SubgraphDeps): SubgraphServerOptions<TContext>;
}

const SubgraphEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().default('127.0.0.1'),
  /** The PostgreSQL server; the subgraph creates and migrates its own database on it. */
  DATABASE_URL: envFields.databaseUrl,
  INTERNAL_TOKEN_SECRET: envFields.internalSecret,
  LOG_LEVEL: envFields.logLevel,
  NODE_ENV: envFields.nodeEnv,
  /** Other subgraphs, `members=http://127.0.0.1:4001/graphql,…`; defaults to their standard ports. */
  SUBGRAPH_URLS: z.string().default(''),
});


/** The entry point of a subgraph service: env, database, listen, graceful shutdown. */
export async function runSubgraph<TContext extends ViewerContext>(module: SubgraphModule<TContext>): Promise<void> {
  const env = parseEnv(SubgraphEnv);
  const logger = createLogger(module.name, env.LOG_LEVEL);
  await ensureDatabase(env.DATABASE_URL, module.database.name);
  const db = await openDatabase({
    url: databaseUrl(env.DATABASE_URL, module.database.name),
    entities: module.database.entities,
    migrations: module.database.migrations,
    applicationName: module.name,
  });
  const peers = Object.fromEntries(parseServiceList(env.SUBGRAPH_URLS).map(({ name, url }) => [name, url]));
  const options = module.create({ db, clock: systemClock, logger, internalSecret: env.INTERNAL_TOKEN_SECRET, introspection: env.NODE_ENV !== 'production', peers });
  const server = await startSubgraphServer(options, env.PORT ?? module.defaultPort, env.HOST);
  await options.scheduler?.register();
  const jobs = options.scheduler?.start() ?? { stop: async () => undefined };
  for (const consumer of options.consumers ?? []) await consumer.register();
  const consumers = (options.consumers ?? []).map((consumer) => consumer.start());
  // Order matters: stop consuming and the jobs (each finishes the event or job in hand), wake the
  // feed's long polls, finish in-flight requests, then close the database.
  onShutdown(logger, async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await jobs.stop();
    await options.feed?.close();
    await server.stop();
    await db.destroy();
  });
}
