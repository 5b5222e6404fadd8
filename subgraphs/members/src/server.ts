import { readFileSync } from 'node:fs';
import { pingDatabase } from '@loyalty-graph/shared/db';
import { EventConsumer, OutboxFeed, processedEventsRetention } from '@loyalty-graph/shared/events';
import { Scheduler, type SubgraphJob, type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { createContextFactory, createServices, type RequestContext } from './context';
import { entities } from './entities';
import { migrations } from './migrations';
import { resolvers } from './resolvers';

/** Read relative to this module, never the working directory. */
export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Programs, members, tiers (moving by themselves on the ledger's events), groups, consents and referrals. Building it does no I/O. */
export const membersSubgraph: SubgraphModule<RequestContext> = {
  name: 'members',
  defaultPort: 4001,
  typeDefs,
  database: { name: 'members', entities, migrations },
  create: ({ db, clock, logger, internalSecret, introspection, events }) => {
    const services = createServices(db, clock);
    const feed = new OutboxFeed({ producer: 'members', db, logger });
    const consumers = [
      new EventConsumer({
        name: 'members.ledger-events',
        db,
        source: events.source('ledger', 'members'),
        handlers: {
          PointsAccrued: (tx, event) => services.tiers.onPointsAccrued(tx, event),
          PointsReturned: (tx, event) => services.tiers.onPointsReturned(tx, event),
        },
        clock,
        logger,
      }),
    ];
    const jobs: SubgraphJob[] = [{ name: 'close-tier-periods', intervalMs: 60_000, run: () => services.tiers.closePeriods() }, processedEventsRetention(consumers, clock)];
    const scheduler = new Scheduler(db, clock, jobs, logger);
    const operations = { subgraph: 'members', db, scheduler, producer: true, consumers };
    return {
      name: 'members',
      typeDefs,
      resolvers,
      context: createContextFactory(db, clock, services, operations),
      internalSecret,
      logger,
      introspection,
      ready: () => pingDatabase(db),
      jobs,
      scheduler,
      feed,
      consumers,
    };
  },
};
