import { readFileSync } from 'node:fs';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { resolvers } from './resolvers';
import { voucherCipherFromEnv } from './services/vouchers';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Rewards (with stock and history) and dedicated catalogs, and what each member can order. Building it does no I/O. */
export const catalogSubgraph = defineSubgraph<Services, RequestContext>({
  name: 'catalog',
  port: 4003,
  schema,
  resolvers,
  migrations,
  // A member's tier comes from members' events: answering what they can order needs no call to members.
  memberSnapshots: true,
  // The voucher codes' key (CATALOG_CODE_KEY) is read here, at start: production refuses to start without it.
  services: ({ db, clock, members, logger }) => createServices(db, clock, members, voucherCipherFromEnv(process.env, logger)),
  context: createContext,
});
