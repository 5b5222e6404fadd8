import { IdempotencyKeys1764600000000 } from '@loyalty-graph/shared/db';
import { RewardsAndCatalogs1796100000000 } from './1796100000000-rewards-and-catalogs';
import { RewardOrders1796200000000 } from './1796200000000-reward-orders';
import { VoucherCodes1796300000000 } from './1796300000000-voucher-codes';
import { CharityRewards1796500000000 } from './1796500000000-charity-rewards';
import { Complaints1796400000000 } from './1796400000000-complaints';
import { CatalogSegments1796610000000 } from './1796610000000-catalog-segments';
import { RewardUnitCost1796310000000 } from './1796310000000-reward-unit-cost';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
export const migrations = [IdempotencyKeys1764600000000, RewardsAndCatalogs1796100000000, RewardOrders1796200000000, VoucherCodes1796300000000, RewardUnitCost1796310000000, Complaints1796400000000, CharityRewards1796500000000, CatalogSegments1796610000000];
