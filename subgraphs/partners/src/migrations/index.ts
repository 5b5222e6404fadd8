import { IdempotencyKeys1764600000000 } from '@loyalty-graph/shared/db';
import { Partners1796600000000 } from './1796600000000-partners';
import { PrepaidBlocks1796840000000 } from './1796840000000-prepaid-blocks';
import { Settlement1796800000000 } from './1796800000000-settlement';
import { Webhooks1796810000000 } from './1796810000000-webhooks';
import { Offers1796820000000 } from './1796820000000-offers';
import { AnalyticsTargeting1796600500000 } from './1796600500000-analytics-targeting';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
export const migrations = [IdempotencyKeys1764600000000, Partners1796600000000, Settlement1796800000000, Webhooks1796810000000, Offers1796820000000, PrepaidBlocks1796840000000, AnalyticsTargeting1796600500000];
