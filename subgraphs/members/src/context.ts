import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { DirectoryService } from './services/directory';
import { EnrolmentService } from './services/enrolment';
import { GroupService } from './services/groups';
import { MemberService } from './services/members';
import { ProgramSettingsService } from './services/program-settings';
import { ProgramService } from './services/programs';
import { ReferralService } from './services/referrals';
import { TierService } from './services/tiers';

export interface Services {
  enrolment: EnrolmentService;
  members: MemberService;
  programs: ProgramService;
  groups: GroupService;
  directory: DirectoryService;
  settings: ProgramSettingsService;
  tiers: TierService;
  referrals: ReferralService;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(db: DataSource, clock: Clock): Services {
  const settings = new ProgramSettingsService(db, clock);
  const referrals = new ReferralService(clock);
  return {
    enrolment: new EnrolmentService(db, clock, settings, referrals),
    members: new MemberService(db, clock),
    programs: new ProgramService(db, clock),
    groups: new GroupService(db, clock),
    directory: new DirectoryService(db),
    settings,
    tiers: new TierService(db, clock, settings, referrals),
    referrals,
  };
}

/** Loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, clock }: PlatformParts): RequestContext {
  return { ...base, loaders: createLoaders(db, services.settings), services, clock };
}
