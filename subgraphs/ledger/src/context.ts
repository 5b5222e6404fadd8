import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { OperationsSources } from '@loyalty-graph/shared/events';
import type { Scheduler } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import type { MemberDirectory } from './members-client';
import { AdjustmentService } from './services/adjustments';
import { BalanceService } from './services/balances';
import { HoldService } from './services/holds';
import { ProgramLedgerService } from './services/program-ledger';
import { ExpiryService } from './services/expiry';
import { PurchaseService } from './services/purchases';
import { ReturnService } from './services/returns';
import { TransferService } from './services/transfers';

export interface Services {
  programs: ProgramLedgerService;
  purchases: PurchaseService;
  holds: HoldService;
  adjustments: AdjustmentService;
  balances: BalanceService;
  returns: ReturnService;
  expiry: ExpiryService;
  transfers: TransferService;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  scheduler: Scheduler;
  /** Event delivery and jobs, for operators. */
  operations: OperationsSources;
}

export function createServices(db: DataSource, clock: Clock, directory: MemberDirectory): Services {
  const programs = new ProgramLedgerService(db, clock);
  return {
    programs,
    purchases: new PurchaseService(db, clock, directory, programs),
    holds: new HoldService(db, clock, directory, programs),
    adjustments: new AdjustmentService(db, clock, directory, programs),
    balances: new BalanceService(db),
    returns: new ReturnService(db, clock, programs),
    expiry: new ExpiryService(db, clock, programs),
    transfers: new TransferService(db, clock, directory, programs),
  };
}

/** Services are stateless and shared; loaders are created per request. */
export function createContextFactory(db: DataSource, services: Services, directory: MemberDirectory, scheduler: Scheduler, operations: OperationsSources) {
  return (base: ViewerContext): RequestContext => ({ ...base, services, scheduler, operations, loaders: createLoaders(db, directory, services.balances) });
}
