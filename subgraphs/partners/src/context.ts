import type { Clock, Logger, ViewerContext } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import type { PeerClient, PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { AgreementService } from './services/agreements';
import { AnalyticsTargeting } from './services/analytics-targeting';
import { ApiClientService } from './services/api-clients';
import { OfferService } from './services/offers';
import { PartnerService } from './services/partners';
import { PrepaidService } from './services/prepaid';
import { SettlementService } from './services/settlement';
import { SettlementCloser } from './services/settlement-close';
import { SettlementFacts } from './services/settlement-facts';
import { settlementLedger } from './services/settlement-ledger';
import { WebhookDeliverer } from './services/webhook-delivery';
import { WebhookEndpointService } from './services/webhook-endpoints';
import { WebhookInbox } from './services/webhook-inbox';
import type { WebhookSettings } from './services/webhook-settings';

/** The use cases (validation, policy, one transaction each), built once and shared by every request. */
export interface Services {
  partners: PartnerService;
  agreements: AgreementService;
  apiClients: ApiClientService;
  prepaid: PrepaidService;
  offers: OfferService;
  /** Members' facts (program, status, tier, consents) from this subgraph's member snapshots. */
  members: MemberDirectory;
  /** Settlement: statements, payments, reconciliation on demand. */
  settlement: SettlementService;
  /** The settlement-close job's work. */
  settlementClose: SettlementCloser;
  /** The event handlers that turn ledger and catalog facts into settlement items. */
  settlementFacts: SettlementFacts;
  webhookEndpoints: WebhookEndpointService;
  /** Makes webhook messages from events (the consumers' handlers). */
  webhookInbox: WebhookInbox;
  /** Sends them (the webhook-delivery job). */
  webhookDeliverer: WebhookDeliverer;
  /** Keeps analytics' segment membership and experiment assignments for Member.offers (the consumer's handlers). */
  analyticsTargeting: AnalyticsTargeting;
}

/** What settlement needs besides the database and the clock. */
export interface SettlementParts {
  logger: Logger;
  /** The ledger, called directly as a service (reconciliation). */
  ledger: PeerClient;
  /** How long after a period's end it closes (SETTLEMENT_GRACE_MINUTES). */
  graceMs: number;
}

/** What the webhooks need besides the database and the clock. */
export interface WebhookParts {
  settings: WebhookSettings;
  logger: Logger;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  /** The injected clock: resolvers read time from it, never from the machine. */
  clock: Clock;
  /** For the keyset-paginated lists (one statement a page). */
  db: DataSource;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, clock: Clock, members: MemberDirectory, settlement: SettlementParts, webhooks: WebhookParts): Services {
  const ledger = settlementLedger(settlement.ledger);
  return {
    partners: new PartnerService(db, clock),
    agreements: new AgreementService(db, clock),
    apiClients: new ApiClientService(db, clock),
    prepaid: new PrepaidService(db, clock),
    offers: new OfferService(db, clock),
    members,
    settlement: new SettlementService(db, clock, ledger),
    settlementClose: new SettlementCloser(db, clock, settlement.logger, ledger, settlement.graceMs),
    settlementFacts: new SettlementFacts(clock),
    webhookEndpoints: new WebhookEndpointService(db, clock, webhooks.settings, webhooks.logger),
    webhookInbox: new WebhookInbox(clock),
    webhookDeliverer: new WebhookDeliverer(db, clock, webhooks.settings, webhooks.logger),
    analyticsTargeting: new AnalyticsTargeting(),
  };
}

/** Loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, clock }: PlatformParts): RequestContext {
  return { ...base, loaders: createLoaders(db, services.members, clock), services, clock, db };
}
