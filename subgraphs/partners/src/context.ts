import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { AgreementService } from './services/agreements';
import { ApiClientService } from './services/api-clients';
import { OfferService } from './services/offers';
import { PartnerService } from './services/partners';

/** The use cases (validation, policy, one transaction each), built once and shared by every request. */
export interface Services {
  partners: PartnerService;
  agreements: AgreementService;
  apiClients: ApiClientService;
  offers: OfferService;
  /** Members' facts (program, status, tier, consents) from this subgraph's member snapshots. */
  members: MemberDirectory;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  /** The injected clock: resolvers read time from it, never from the machine. */
  clock: Clock;
  /** For the keyset-paginated lists (one statement a page). */
  db: DataSource;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, clock: Clock, members: MemberDirectory): Services {
  return { partners: new PartnerService(db, clock), agreements: new AgreementService(db, clock), apiClients: new ApiClientService(db, clock), offers: new OfferService(db, clock), members };
}

/** Loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, clock }: PlatformParts): RequestContext {
  return { ...base, loaders: createLoaders(db, services.members, clock), services, clock, db };
}
