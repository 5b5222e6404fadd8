import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { AnalyticsSettings } from './services/analytics-settings';
import { Cohorts } from './services/cohorts';
import { Facts } from './services/facts';
import { Kpis } from './services/kpis';
import { Reconciler } from './services/reconciliation';
import { SuccessCriteria } from './services/success-criteria';

/** The use cases, built once and shared by every request. */
export interface Services {
  /** Writes the facts from members' and the ledger's events. */
  facts: Facts;
  kpis: Kpis;
  reconciler: Reconciler;
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
  return {
    facts: new Facts(),
    kpis,
    reconciler: new Reconciler(kpis, ledger),
    analyticsSettings,
    cohorts: new Cohorts(db),
    successCriteria: new SuccessCriteria(db, clock),
  };
}

/** Per request: no loaders yet (every field here is one aggregate query, not N entity lookups). */
export function createContext(base: ViewerContext, services: Services, { clock }: PlatformParts): RequestContext {
  return { ...base, services, clock };
}
