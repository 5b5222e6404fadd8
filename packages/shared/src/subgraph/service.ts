import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { z } from 'zod';
import type { ViewerContext } from '../access';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { databaseUrl, ensureDatabase, openDatabase } from '../db';
import { envFields, parseEnv, parseServiceList } from '../env';
import { createLogger, type Logger } from '../logger';
import { onShutdown } from '../process';
import { connect } from 'nats';
import { ensureStream, HttpEventSource, JetStreamEventSource, type EventContract, type EventSource } from '../events';
import { launchSubgraph } from './lifecycle';
import type { SubgraphServerOptions } from './subgraph-server';

export interface SubgraphDeps {
  db: DataSource;
  clock: Clock;
  logger: Logger;
  internalSecret: string;
  introspection: boolean;
  /** Other subgraphs' URLs by name, for direct service-to-service calls (never via the gateway). */
  peers: Record<string, string>;
  /** Where this subgraph reads other subgraphs' events from. */
  events: EventTransport;
}

/** The event transport in use: the producers' HTTP feeds (default) or NATS JetStream. */
export interface EventTransport {
  source(producer: string, consumerName: string): EventSource;
}

/** Reads each producer's own feed over HTTP, found through `peers`. */
export function httpEventTransport(peers: Record<string, string>, internalSecret: string): EventTransport {
  return { source: (producer, consumerName) => new HttpEventSource(producer, peerUrl(peers, producer), internalSecret, consumerName) };
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
 * `pnpm dev`, and in tests: its name, port, database and a factory without side effects. Built by
 * `defineSubgraph` from the subgraph's declaration.
 */
export interface SubgraphModule<TContext extends ViewerContext = ViewerContext> {
  name: string;
  defaultPort: number;
  /** The subgraph's whole SDL (the platform's joined to its schema.graphql), used by the server and by composition. */
  typeDefs: string;
  database: {
    /** The subgraph's own database on the server: subgraphs never share tables. */
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    entities: MixedList<Function | string | EntitySchema>;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    migrations: MixedList<Function | string>;
  };
  /** The contract of the events it produces, if it produces any (docs/events.md is generated from it). */
  produces?: EventContract;
  create(deps: SubgraphDeps): SubgraphServerOptions<TContext>;
}

const SubgraphEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().default('127.0.0.1'),
  /** The PostgreSQL server; the subgraph creates and migrates its own database on it. */
  DATABASE_URL: envFields.databaseUrl,
  /**
   * Prepended to the subgraph's database name (`members` → `staging_members`), so several
   * deployments can share one PostgreSQL server. The database in DATABASE_URL is not used.
   */
  DATABASE_PREFIX: z.string().regex(/^([a-z_][a-z0-9_]{0,40})?$/, 'lower-case letters, digits and _').default(''),
  INTERNAL_TOKEN_SECRET: envFields.internalSecret,
  LOG_LEVEL: envFields.logLevel,
  NODE_ENV: envFields.nodeEnv,
  /** Other subgraphs, `members=http://127.0.0.1:4001/graphql,…`; defaults to their standard ports. */
  SUBGRAPH_URLS: z.string().default(''),
  /** How events travel between subgraphs: each producer's HTTP feed over its outbox, or NATS JetStream. */
  EVENT_TRANSPORT: z.enum(['http', 'nats']).default('http'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Keeps one deployment's streams apart from another's on a shared NATS. */
  NATS_STREAM_PREFIX: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,30}$/).default('LG'),
});


async function connectJetStream(url: string, producer: string, prefix: string) {
  // Reconnect for as long as it takes: a broker restart must not leave the service without events.
  const connection = await connect({ servers: url, name: producer, maxReconnectAttempts: -1 });
  const manager = await connection.jetstreamManager();
  await ensureStream(manager, producer, prefix);
  return { connection, manager, transport: { source: (from: string) => new JetStreamEventSource(from, connection, manager, prefix) } satisfies EventTransport };
}

/** The entry point of a subgraph service: env, database, the event transport, then the shared launch sequence. */
export async function runSubgraph<TContext extends ViewerContext>(module: SubgraphModule<TContext>): Promise<void> {
  const env = parseEnv(SubgraphEnv);
  const logger = createLogger(module.name, env.LOG_LEVEL);
  const database = `${env.DATABASE_PREFIX}${module.database.name}`;
  await ensureDatabase(env.DATABASE_URL, database);
  const db = await openDatabase({
    url: databaseUrl(env.DATABASE_URL, database),
    entities: module.database.entities,
    migrations: module.database.migrations,
    applicationName: module.name,
  });
  const peers = Object.fromEntries(parseServiceList(env.SUBGRAPH_URLS).map(({ name, url }) => [name, url]));
  // With NATS, the subgraph's relay publishes its outbox to its stream and consumers read the others' streams.
  const nats = env.EVENT_TRANSPORT === 'nats' ? await connectJetStream(env.NATS_URL, module.name, env.NATS_STREAM_PREFIX) : null;
  const events = nats?.transport ?? httpEventTransport(peers, env.INTERNAL_TOKEN_SECRET);
  const deps = { db, clock: systemClock, logger, internalSecret: env.INTERNAL_TOKEN_SECRET, introspection: env.NODE_ENV !== 'production', peers, events };
  const launched = await launchSubgraph(module, deps, {
    port: env.PORT ?? module.defaultPort,
    host: env.HOST,
    background: true,
    nats: nats && { connection: nats.connection, manager: nats.manager, prefix: env.NATS_STREAM_PREFIX },
  });
  onShutdown(logger, () => launched.stop());
}
