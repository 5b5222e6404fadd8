import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { AgreementService } from './services/agreements';
import { ApiClientService } from './services/api-clients';
import { PartnerService } from './services/partners';
import { PrepaidService } from './services/prepaid';

/** The use cases (validation, policy, one transaction each), built once and shared by every request. */
export interface Services {
  partners: PartnerService;
  agreements: AgreementService;
  apiClients: ApiClientService;
  prepaid: PrepaidService;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  /** The injected clock: resolvers read time from it, never from the machine. */
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, clock: Clock): Services {
  return { partners: new PartnerService(db, clock), agreements: new AgreementService(db, clock), apiClients: new ApiClientService(db, clock), prepaid: new PrepaidService(db, clock) };
}

/** Loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, clock }: PlatformParts): RequestContext {
  return { ...base, loaders: createLoaders(db), services, clock };
}
