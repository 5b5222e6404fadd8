import { readFileSync } from 'node:fs';
import { analyticsEvents } from '@loyalty-graph/shared/contracts';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { resolvers } from './resolvers';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/**
 * Facts for analysis, learnt only from other subgraphs' events (members, ledger), and the KPIs and
 * the reconciliation with the ledger built on them. Building it does no I/O.
 */
export const analyticsSubgraph = defineSubgraph<Services, RequestContext>({
  name: 'analytics',
  port: 4005,
  schema,
  resolvers,
  migrations,
  // Who a member token's subject is comes from members' events, as everywhere: a member's request
  // is identified (then refused: members see no KPIs) without a call to members.
  memberSnapshots: true,
  // Segment membership and experiment assignments, for offers, catalogs and the ledger's earning.
  produces: analyticsEvents,
  // The reconciliation asks the ledger for its own totals (a SERVICE-only query).
  services: ({ db, peer, clock }) => createServices(db, peer('ledger'), clock),
  // One fact row per event, keyed by its id: safe to redeliver and to rebuild from position zero.
  // The catalog's and partners' events (rewards redeemed and cancelled, settlements) are read for the costs.
  // Experiments' handlers run after the facts' (the kit merges readings of one producer in order):
  // a newly enrolled member's state exists when their eligibility is checked.
  consumes: ({ facts, moneyFacts, experiments }) => [...facts.consumptions(), ...moneyFacts.consumptions(), ...experiments.consumptions()],
  // A survey's audience is fixed when it opens; reads and answers fix it too, this bounds the wait.
  jobs: ({ surveys }) => [{ name: 'fix-survey-audiences', intervalMs: 60_000, run: () => surveys.fixDueAudiences() }],
  context: createContext,
});
