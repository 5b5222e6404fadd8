import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { Scheduler } from '@loyalty-graph/shared/jobs';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { AdjustmentService } from './services/adjustments';
import { BalanceService } from './services/balances';
import { BacktestService } from './services/backtests';
import { HoldService } from './services/holds';
import { PartnerFundingService } from './services/partner-funding-entries';
import type { MemberIdentifiers } from './services/identification';
import { ProgramLedgerService } from './services/program-ledger';
import { ExpiryService } from './services/expiry';
import { PurchaseImportService } from './services/purchase-imports';
import { PurchaseService } from './services/purchases';
import { ReferralBonusService } from './services/referral-bonuses';
import { ReturnService } from './services/returns';
import { TransferService } from './services/transfers';

export interface Services {
  programs: ProgramLedgerService;
  purchases: PurchaseService;
  /** Large files of purchases, recorded by a job in chunks. */
  imports: PurchaseImportService;
  holds: HoldService;
  adjustments: AdjustmentService;
  balances: BalanceService;
  returns: ReturnService;
  expiry: ExpiryService;
  transfers: TransferService;
  bonuses: ReferralBonusService;
  /** Partner-funded entries and holds, for settlement's reconciliation (services only). */
  partnerFunding: PartnerFundingService;
  /** Who members are (program, status, tier), from the member-snapshot projection. */
  members: MemberDirectory;
  /** Draft earning rules replayed against recorded purchases (read only). */
  backtests: BacktestService;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  scheduler: Scheduler;
  /** The injected clock: resolvers read time from it, never from the machine. */
  clock: Clock;
}

/** `identify`: members' card/email/phone lookup (the members subgraph, called as a peer). */
export function createServices(db: DataSource, clock: Clock, directory: MemberDirectory, identify: MemberIdentifiers): Services {
  const programs = new ProgramLedgerService(db, clock);
  const purchases = new PurchaseService(db, clock, directory, programs, identify);
  return {
    programs,
    purchases,
    imports: new PurchaseImportService(db, clock, directory, purchases),
    holds: new HoldService(db, clock, directory, programs),
    adjustments: new AdjustmentService(db, clock, directory, programs),
    balances: new BalanceService(db),
    returns: new ReturnService(db, clock, programs),
    expiry: new ExpiryService(db, clock, programs),
    transfers: new TransferService(db, clock, directory, programs),
    bonuses: new ReferralBonusService(clock, programs),
    partnerFunding: new PartnerFundingService(db),
    members: directory,
    backtests: new BacktestService(db, clock),
  };
}

/** Services are stateless and shared; loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, scheduler, clock }: PlatformParts): RequestContext {
  return { ...base, services, scheduler, clock, loaders: createLoaders(db, services.members, services.balances, clock) };
}
