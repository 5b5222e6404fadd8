import { readFileSync } from 'node:fs';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { partnersEvents } from '@loyalty-graph/shared/contracts';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { resolvers } from './resolvers';

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
  // A member's tier, status and partner-marketing consent come from members' events: Member.offers
  // needs no call to members.
  memberSnapshots: true,
  services: ({ db, clock, members }) => createServices(db, clock, members),
  context: createContext,
});
