import type { NatsConnection, JetStreamManager } from 'nats';
import type { ViewerContext } from '../access';
import { JetStreamRelay } from '../events';
import { startSubgraphServer, type SubgraphServer, type SubgraphServerOptions } from './subgraph-server';
import type { SubgraphDeps, SubgraphModule } from './service';

export interface LaunchOptions {
  port: number;
  host?: string;
  /**
   * Services apply events and run jobs in the background. Tests leave both off and deliver events
   * (`consumer.drain()`) and run jobs (`scheduler.tick()`) by hand, after moving the clock.
   */
  background: boolean;
  /** With the NATS transport: the relay publishes the outbox, and readiness needs the connection. */
  nats?: { connection: NatsConnection; manager: JetStreamManager; prefix: string } | null;
}

export interface LaunchedSubgraph<TContext extends ViewerContext = ViewerContext> {
  server: SubgraphServer;
  /** What the module built: its jobs, scheduler, feed and consumers. */
  subgraph: SubgraphServerOptions<TContext>;
  /** Stops everything in the one safe order, the database last. */
  stop(): Promise<void>;
}

/**
 * The one start and stop sequence of a subgraph, for services (`runSubgraph`) and tests alike:
 * build it, register its jobs and consumers, listen, then (for services) start the loops.
 */
export async function launchSubgraph<TContext extends ViewerContext>(module: SubgraphModule<TContext>, deps: SubgraphDeps, options: LaunchOptions): Promise<LaunchedSubgraph<TContext>> {
  const created = module.create(deps);
  const nats = options.nats ?? null;
  // Without its broker the subgraph neither delivers nor receives events: not ready.
  const subgraph: SubgraphServerOptions<TContext> = nats
    ? {
        ...created,
        ready: async () => {
          await created.ready();
          if (nats.connection.isClosed()) throw new Error('the NATS connection is closed');
        },
      }
    : created;
  await subgraph.scheduler?.register();
  for (const consumer of subgraph.consumers ?? []) await consumer.register();
  const relay = nats && subgraph.feed ? new JetStreamRelay(subgraph.feed, nats.connection, nats.manager, deps.logger, nats.prefix).start() : null;
  const server = await startSubgraphServer(subgraph, options.port, options.host);
  const jobs = options.background ? subgraph.scheduler?.start() : undefined;
  const loops = options.background ? (subgraph.consumers ?? []).map((consumer) => consumer.start()) : [];
  return {
    server,
    subgraph,
    // Order matters: stop consuming and the jobs (each finishes the event or job in hand), wake the
    // feed's long polls, finish in-flight requests, then close the database.
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
      await relay?.stop();
      await jobs?.stop();
      await subgraph.feed?.close();
      await nats?.connection.drain();
      await server.stop();
      await deps.db.destroy();
    },
  };
}
