import { readFileSync } from 'node:fs';
import { pingDatabase } from '@loyalty-graph/shared/db';
import { EventConsumer, OutboxFeed, processedEventsRetention } from '@loyalty-graph/shared/events';
import { peerUrl, Scheduler, type SubgraphJob, type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { createContextFactory, createServices, type RequestContext } from './context';
import { entities } from './entities';
import { batchedDirectory, cachedDirectory, createMembersClient } from './members-client';
import { migrations } from './migrations';
import { resolvers } from './resolvers';
import { ReferralBonusService } from './services/referral-bonuses';

/** How long the ledger trusts what members said about a member (program, status, tier). */
const MEMBER_CACHE_MS = 5_000;

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Accounts, the journal, earning rules, purchases and holds. Building it does no I/O. */
export const ledgerSubgraph: SubgraphModule<RequestContext> = {
  name: 'ledger',
  defaultPort: 4002,
  typeDefs,
  database: { name: 'ledger', entities, migrations },
  create: ({ db, clock, logger, internalSecret, introspection, peers, events }) => {
    const members = createMembersClient(peerUrl(peers, 'members')(), internalSecret);
    const directory = cachedDirectory(batchedDirectory(members), MEMBER_CACHE_MS);
    const services = createServices(db, clock, directory);
    const feed = new OutboxFeed({ producer: 'ledger', db, logger });
    const bonuses = new ReferralBonusService(clock, services.programs);
    const consumers = [
      new EventConsumer({
        name: 'ledger.members-events',
        db,
        source: events.source('members', 'ledger'),
        handlers: { ReferralQualified: (tx, event) => bonuses.onReferralQualified(tx, event) },
        // A bonus locks two members' accounts (in id order); one event per transaction keeps that the only order.
        transactionSize: 1,
        clock,
        logger,
      }),
    ];
    const jobs: SubgraphJob[] = [
      { name: 'post-pending-points', intervalMs: 10_000, run: () => services.purchases.postDue() },
      { name: 'expire-holds', intervalMs: 10_000, run: () => services.holds.expireDue() },
      { name: 'expire-points', intervalMs: 60_000, run: () => services.expiry.expireDue() },
      processedEventsRetention(consumers, clock),
    ];
    const scheduler = new Scheduler(db, clock, jobs, logger);
    const operations = { subgraph: 'ledger', db, scheduler, producer: true, consumers };
    return {
      name: 'ledger',
      typeDefs,
      resolvers,
      context: createContextFactory(db, services, directory, scheduler, operations),
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
