import type { Clock, ViewerContext } from '@loyalty-graph/shared';
import type { MemberDirectory } from '@loyalty-graph/shared/member-snapshots';
import type { PlatformParts } from '@loyalty-graph/shared/subgraph';
import type { DataSource } from 'typeorm';
import { createLoaders, type Loaders } from './loaders';
import { CatalogService } from './services/catalogs';
import { MemberCatalogService } from './services/member-catalogs';
import { SegmentMemberships } from './services/segment-memberships';
import { RewardService } from './services/rewards';
import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import { LedgerClient } from './services/ledger-client';
import { OrderChangeService } from './services/order-changes';
import { DEFAULT_ORDER_OPTIONS, OrderService, type OrderServiceOptions } from './services/orders';
import { VoucherService } from './services/vouchers';
import { ComplaintService } from './services/complaints';
import type { VoucherCipher } from './domain/voucher-codes';

/** The use cases (validation, policy, one transaction each), built once and shared by every request. */
export interface Services {
  rewards: RewardService;
  catalogs: CatalogService;
  memberCatalogs: MemberCatalogService;
  orders: OrderService;
  orderChanges: OrderChangeService;
  /** Members' facts (program, status, tier) from the member snapshots. */
  members: MemberDirectory;
  vouchers: VoucherService;
  complaints: ComplaintService;
  /** Analytics' segment membership (the consumer's handlers, and the lookup for catalogs targeted at segments). */
  segmentMemberships: SegmentMemberships;
}

export interface RequestContext extends ViewerContext {
  loaders: Loaders;
  services: Services;
  db: DataSource;
  /** The injected clock: resolvers read time from it, never from the machine. */
  clock: Clock;
}

/** Services are stateless and shared by every request. */
export function createServices(
  db: DataSource,
  clock: Clock,
  members: MemberDirectory,
  ledger: PeerClient,
  codes: VoucherCipher,
  orderOptions: OrderServiceOptions = DEFAULT_ORDER_OPTIONS,
): Services {
  const vouchers = new VoucherService(db, clock, codes);
  const orders = new OrderService(db, clock, members, new LedgerClient(ledger), vouchers, orderOptions);
  const orderChanges = new OrderChangeService(db, clock, orders);
  const segmentMemberships = new SegmentMemberships(db);
  return {
    rewards: new RewardService(db, clock),
    catalogs: new CatalogService(db, clock),
    memberCatalogs: new MemberCatalogService(db, clock, members, segmentMemberships),
    orders,
    orderChanges,
    members,
    vouchers,
    complaints: new ComplaintService(db, clock, orders, orderChanges, { leaseSeconds: orderOptions.leaseSeconds }),
    segmentMemberships,
  };
}

/** Loaders are created per request. */
export function createContext(base: ViewerContext, services: Services, { db, clock }: PlatformParts): RequestContext {
  return { ...base, loaders: createLoaders(db), services, db, clock };
}
