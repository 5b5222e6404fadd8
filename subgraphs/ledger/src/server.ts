import { readFileSync } from 'node:fs';
import { analyticsEvents, ledgerEvents, membersEvents, partnersEvents } from '@loyalty-graph/shared/contracts';
import { consume } from '@loyalty-graph/shared/events';
import { defineSubgraph } from '@loyalty-graph/shared/subgraph';
import { createContext, createServices, type RequestContext, type Services } from './context';
import { migrations } from './migrations';
import { resolvers } from './resolvers';
import { experimentTreatments } from './services/experiment-treatments';
import { membersByIdentifier } from './services/identification';
import { partnerFunding } from './services/partner-funding';

/** This subgraph's own types, read relative to this module (never the working directory). */
export const schema = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Accounts, the journal, earning rules, purchases and holds. Building it does no I/O. */
export const ledgerSubgraph = defineSubgraph<Services, RequestContext>({
  name: 'ledger',
  port: 4002,
  schema,
  resolvers,
  migrations,
  produces: ledgerEvents,
  // Who a member is (program, status, tier) comes from members' events: a purchase needs no call to
  // members. Only a purchase naming its member by card, email or phone asks members, as a peer.
  memberSnapshots: true,
  services: ({ db, clock, members, peer }) => createServices(db, clock, members, membersByIdentifier(peer('members'))),
  consumes: ({ bonuses }) => [
    // A bonus locks two members' accounts (in id order); one bonus per transaction keeps that the only order.
    consume(membersEvents, { ReferralQualified: (tx, event) => bonuses.onReferralQualified(tx, event) }, { solo: true, does: 'credits the bonuses (a `BONUS` journal entry per member), once per referral and role' }),
    // Partners' funding terms, kept in the ledger's own tables: every partner-funded accrual checks them.
    consume(
      partnersEvents,
      {
        PartnerFundingTermsChanged: (tx, event) => partnerFunding.onTermsChanged(tx, event),
        PartnerPrepaidPointsAdded: (tx, event) => partnerFunding.onPrepaidPointsAdded(tx, event),
        PartnerPointsSettled: (tx, event) => partnerFunding.onPointsSettled(tx, event),
      },
      { does: 'keeps partners’ funding terms, prepaid top-ups and settled points, which limit the accruals a partner funds (PARTNER_FUNDING_EXHAUSTED)' },
    ),
    // Analytics' experiment assignments, kept in the ledger's own table: accruals multiply by them.
    consume(
      analyticsEvents,
      { ExperimentVariantAssigned: (tx, event) => experimentTreatments.onVariantAssigned(tx, event) },
      { does: 'keeps each member’s experiment assignment; purchases in [startsAt, endsAt) earn the variant’s earnMultiplier (after the rules, before caps)' },
    ),
  ],
  jobs: ({ purchases, holds, expiry, imports }) => [
    { name: 'post-pending-points', intervalMs: 10_000, run: () => purchases.postDue() },
    { name: 'expire-holds', intervalMs: 10_000, run: () => holds.expireDue() },
    { name: 'expire-points', intervalMs: 60_000, run: () => expiry.expireDue() },
    // Purchase imports, chunk by chunk (each chunk leased, so replicas share a file safely). A run
    // stops taking chunks after 30 s, so a replica killed mid-run is taken over after a minute.
    { name: 'record-purchase-imports', intervalMs: 1_000, leaseMs: 60_000, run: () => imports.work() },
  ],
  context: createContext,
});
