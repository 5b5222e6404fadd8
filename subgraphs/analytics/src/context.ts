import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { BusinessCases, type CostSource } from './services/business-case';
import { Experiments } from './services/experiments';
import { Facts } from './services/facts';
import { Kpis } from './services/kpis';
import { Readouts } from './services/readout';
import { Reconciler } from './services/reconciliation';

/** The use cases, built once and shared by every request. */
export interface Services {
  /** Writes the facts from members' and the ledger's events. */
  facts: Facts;
  kpis: Kpis;
  reconciler: Reconciler;
  /** The holdout, experiments and their assignments (and the consumer that assigns late-eligible members). */
  experiments: Experiments;
  readouts: Readouts;
  businessCases: BusinessCases;
}

export interface RequestContext extends ViewerContext {
  services: Services;
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, ledger: PeerClient, clock: Clock): Services {
  const kpis = new Kpis(db);
  const experiments = new Experiments(db, clock);
  return {
    facts: new Facts(),
    kpis,
    reconciler: new Reconciler(kpis, ledger),
    experiments,
    readouts: new Readouts(db),
    businessCases: new BusinessCases(db, experiments, NO_OTHER_COSTS_YET),
  };
}

/**
 * TEMPORARY, until the Costs service (services/costs.ts, another slice of issue 12) is merged: then
 * pass `new Costs(db)` here. Zero fulfilment and settlement costs understate the business case's cost.
 */
const NO_OTHER_COSTS_YET: CostSource = { between: async () => ({ fulfilmentCost: '0', settlementNet: '0', currency: null }) };

/** Per request: no loaders yet (every field here is one aggregate query, not N entity lookups). */
export function createContext(base: ViewerContext, services: Services, { clock }: PlatformParts): RequestContext {
  return { ...base, services, clock };
}
