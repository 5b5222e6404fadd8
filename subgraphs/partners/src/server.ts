import { readFileSync } from 'node:fs';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { resolvers } from './resolvers';
import { webhookSettingsFromEnv } from './services/webhook-settings';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/**
 * Partners of a program, their versioned agreements, and their API clients (whose keys the
 * gateway resolves through `apiKeyGrant`). Building it does no I/O.
 */
export const partnersSubgraph = defineSubgraph<Services, RequestContext>({
  name: 'partners',
  port: 4004,
  schema,
  resolvers,
  migrations,
  // Funding terms (for the ledger's limits on partner-funded issuance) and settlement.
  produces: partnersEvents,
  // The webhook secrets' key (PARTNERS_WEBHOOK_KEY) is read here, at start: production refuses to start without it.
  services: ({ db, clock, logger }) => createServices(db, clock, { settings: webhookSettingsFromEnv(process.env, logger), logger }),
  // Events that become partners' webhooks (its own settlement statements among them, from its own feed).
  consumes: ({ webhookInbox }) => webhookInbox.consumptions(),
  jobs: ({ webhookDeliverer }) => [
    // Sends due webhook messages: claims with SKIP LOCKED and a lease, so replicas share the work
    // and a deliverer that dies leaves nothing behind (services/webhook-delivery.ts).
    { name: 'webhook-delivery', intervalMs: 1_000, run: () => webhookDeliverer.run() },
    // Delivered and dead messages are kept 30 days (visible, replayable), then forgotten.
    { name: 'webhook-retention', intervalMs: 3_600_000, run: () => webhookDeliverer.prune() },
  ],
  context: createContext,
});
