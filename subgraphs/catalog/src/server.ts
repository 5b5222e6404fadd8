import { readFileSync } from 'node:fs';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { catalogEvents } from '@loyalty-graph/shared/contracts';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { DEFAULT_ORDER_OPTIONS, type OrderServiceOptions } from './services/orders';
import { migrations } from './migrations';
import { resolvers } from './resolvers';
import { voucherCipherFromEnv } from './services/vouchers';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/**
 * Rewards (with stock and history), dedicated catalogs, what each member can order, and reward
 * orders with their fulfilment. Building it does no I/O. `orders` changes the saga's timings, and
 * lets a fault test stop the process at a step.
 */
export function createCatalogSubgraph(orders: Partial<OrderServiceOptions> = {}) {
  const orderOptions = { ...DEFAULT_ORDER_OPTIONS, ...orders };
  return defineSubgraph<Services, RequestContext>({
    name: 'catalog',
    port: 4003,
    schema,
    resolvers,
    migrations,
    produces: catalogEvents,
    // A member's tier comes from members' events: answering what they can order needs no call to members.
    memberSnapshots: true,
    // Points are held and taken in the ledger by direct service calls (the order saga). The voucher
    // codes' key (CATALOG_CODE_KEY) is read here, at start: production refuses to start without it.
    services: ({ db, clock, members, peer, logger }) => createServices(db, clock, members, peer('ledger'), voucherCipherFromEnv(process.env, logger), orderOptions),
    jobs: ({ orders, complaints }) => [
      // Completes or undoes orders whose driver went quiet, releases expired reservations, and
      // finishes refunds the ledger did not confirm. Safe on several replicas (each order is leased).
      { name: 'reward-order-recovery', intervalMs: 5_000, run: () => orders.recover() },
      // Finishes complaint resolutions whose request died between the claim and the close (the
      // replacement or refund carries a key derived from the complaint, so finishing twice is one effect).
      { name: 'complaint-recovery', intervalMs: 5_000, run: () => complaints.recover() },
    ],
    // Analytics' segment membership, for catalogs targeted at segments (Member.catalogs).
    consumes: ({ segmentMemberships }) => segmentMemberships.consumptions(),
    context: createContext,
  });
}

export const catalogSubgraph = createCatalogSubgraph();
