import { readFileSync } from 'node:fs';
import { ledgerEvents, membersEvents } from '@loyalty-graph/shared/contracts';
import { consume } from '@loyalty-graph/shared/events';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { entities } from './entities';
import { migrations } from './migrations';
import { resolvers } from './resolvers';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Programs, members, tiers (moving by themselves on the ledger's events), groups, consents and referrals. Building it does no I/O. */
export const membersSubgraph = defineSubgraph<Services, RequestContext>({
  name: 'members',
  port: 4001,
  schema,
  resolvers,
  entities,
  migrations,
  produces: membersEvents,
  services: ({ db, clock }) => createServices(db, clock),
  // Members owns the answer to "who is this member": its own table (the kit caches what it finds).
  memberIdentity: ({ directory }) => (who) => directory.memberIdBySubject(who.programId, who.subject),
  consumes: ({ tiers }) => [
    consume(ledgerEvents, {
      PointsAccrued: (tx, event) => tiers.onPointsAccrued(tx, event),
      PointsReturned: (tx, event) => tiers.onPointsReturned(tx, event),
    }, { does: "status points per qualification period; upgrades at once; a referral's first purchase" }),
  ],
  jobs: ({ tiers }) => [{ name: 'close-tier-periods', intervalMs: 60_000, run: () => tiers.closePeriods() }],
  context: createContext,
});
