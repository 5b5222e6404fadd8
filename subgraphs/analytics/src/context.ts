import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { AnalyticsSettings } from './services/analytics-settings';
import { Cohorts } from './services/cohorts';
import { BusinessCases } from './services/business-case';
import { Costs } from './services/costs';
import { Experiments } from './services/experiments';
import { Facts } from './services/facts';
import { Kpis } from './services/kpis';
import { Finance } from './services/money';
import { MoneyFacts } from './services/money-facts';
import { Readouts } from './services/readout';
import { Reconciler } from './services/reconciliation';
import { SuccessCriteria } from './services/success-criteria';
import { Surveys } from './services/surveys';
import { Segments } from './services/segments';

/** The use cases, built once and shared by every request. */
export interface Services {
  /** Writes the facts from members' and the ledger's events. */
  facts: Facts;
  kpis: Kpis;
  reconciler: Reconciler;
  /** Surveys, their audiences and answers, and NPS. */
  surveys: Surveys;
  /** Writes the facts from the catalog's and partners' events (rewards redeemed, settlements). */
  moneyFacts: MoneyFacts;
  /** Liability, breakage and IFRS 15 deferred revenue. */
  finance: Finance;
  /** Fulfilment cost and settlement net over a period (the business case calls it too). */
  costs: Costs;
  /** The holdout, experiments and their assignments (and the consumer that assigns late-eligible members). */
  experiments: Experiments;
  readouts: Readouts;
  businessCases: BusinessCases;
  /** Segments, their membership (kept current from the facts) and RFM. */
  segments: Segments;
  /** Versions of the KPI definitions' parameters (issue 12, KPIs). */
  analyticsSettings: AnalyticsSettings;
  cohorts: Cohorts;
  successCriteria: SuccessCriteria;
}

export interface RequestContext extends ViewerContext {
  services: Services;
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, ledger: PeerClient, clock: Clock): Services {
  const analyticsSettings = new AnalyticsSettings(db, clock);
  const kpis = new Kpis(db, analyticsSettings);
  const finance = new Finance(db);
  const costs = new Costs(db);
  const experiments = new Experiments(db, clock);
  const segments = new Segments(db, clock);
  return {
    // After a member's state changes, their segments follow, in the same transaction; a member who
    // just entered a segment is assigned to the running experiments of that segment at once.
    facts: new Facts(async (tx, programId, memberId) => {
      await segments.memberChanged(tx, programId, memberId);
      await experiments.assignNewlyEligible(tx, programId, memberId);
    }),
    kpis,
    reconciler: new Reconciler(kpis, ledger, finance),
    surveys: new Surveys(db, clock),
    moneyFacts: new MoneyFacts(),
    finance,
    costs,
    experiments,
    readouts: new Readouts(db),
    // The business case's fulfilment cost and settlement net come from the catalog's and partners' events.
    businessCases: new BusinessCases(db, experiments, costs),
    segments,
    analyticsSettings,
    cohorts: new Cohorts(db),
    successCriteria: new SuccessCriteria(db, clock),
  };
}

/** Per request: no loaders yet (every field here is one aggregate query, not N entity lookups). */
export function createContext(base: ViewerContext, services: Services, { clock }: PlatformParts): RequestContext {
  return { ...base, services, clock };
}
