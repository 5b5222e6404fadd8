import { readFileSync } from 'node:fs';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { settlementGraceMs } from './services/settlement-close';
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
  // A member's tier, status and partner consents come from members' events: Member.offers and the
  // tier-change webhooks need no call to members.
  memberSnapshots: true,
  // Settlement reconciles with the ledger by direct service calls; its grace is read at start. The
  // webhook secrets' key (PARTNERS_WEBHOOK_KEY) is read here too: production refuses to start without it.
  services: ({ db, clock, logger, peer, members }) =>
    createServices(db, clock, members, { logger, ledger: peer('ledger'), graceMs: settlementGraceMs(process.env) }, { settings: webhookSettingsFromEnv(process.env, logger), logger }),
  // Settlement's facts (partner-funded accruals and returns, partner redemptions), and the events that
  // become partners' webhooks (its own settlement statements among them, from its own feed). The kit
  // runs both handlers of an event in one transaction. Analytics' segment membership and experiment
  // assignments target offers (Member.offers).
  consumes: ({ settlementFacts, webhookInbox, analyticsTargeting }) => [...settlementFacts.consumptions(), ...webhookInbox.consumptions(), ...analyticsTargeting.consumptions()],
  jobs: ({ settlementClose, webhookDeliverer }) => [
    // Closes each partner's settlement period once its end + the grace passed, after reconciling it
    // with the ledger. Safe twice and on several replicas (an advisory lock per partner, ids per period).
    { name: 'settlement-close', intervalMs: 5 * 60_000, run: () => settlementClose.closeDue() },
    // Sends due webhook messages: claims with SKIP LOCKED and a lease, so replicas share the work
    // and a deliverer that dies leaves nothing behind (services/webhook-delivery.ts).
    { name: 'webhook-delivery', intervalMs: 1_000, run: () => webhookDeliverer.run() },
    // Delivered and dead messages are kept 30 days (visible, replayable), then forgotten.
    { name: 'webhook-retention', intervalMs: 3_600_000, run: () => webhookDeliverer.prune() },
  ],
  context: createContext,
});
