import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { Facts } from './services/facts';
import { Kpis } from './services/kpis';
import { Reconciler } from './services/reconciliation';
import { Segments } from './services/segments';

/** The use cases, built once and shared by every request. */
export interface Services {
  /** Writes the facts from members' and the ledger's events. */
  facts: Facts;
  kpis: Kpis;
  reconciler: Reconciler;
  /** Segments, their membership (kept current from the facts) and RFM. */
  segments: Segments;
}

export interface RequestContext extends ViewerContext {
  services: Services;
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, ledger: PeerClient, clock: Clock): Services {
  const kpis = new Kpis(db);
  const segments = new Segments(db, clock);
  return { facts: new Facts((tx, programId, memberId) => segments.memberChanged(tx, programId, memberId)), kpis, reconciler: new Reconciler(kpis, ledger), segments };
}

/** Per request: no loaders yet (every field here is one aggregate query, not N entity lookups). */
export function createContext(base: ViewerContext, services: Services, { clock }: PlatformParts): RequestContext {
  return { ...base, services, clock };
}
