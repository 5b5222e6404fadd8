import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { DirectoryService } from './services/directory';
import { GroupService } from './services/groups';
import { MemberService } from './services/members';
import { ProgramService } from './services/programs';

export interface Services {
  members: MemberService;
  programs: ProgramService;
  groups: GroupService;
  directory: DirectoryService;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
}

/** Services are stateless and shared; loaders are created per request. */
export function createContextFactory(db: DataSource, clock: Clock) {
  const services: Services = {
    members: new MemberService(db, clock),
    programs: new ProgramService(db, clock),
    groups: new GroupService(db, clock),
    directory: new DirectoryService(db),
  };
  return (base: ViewerContext): RequestContext => ({ ...base, loaders: createLoaders(db), services });
}
