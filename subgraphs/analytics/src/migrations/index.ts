import { AnalyticsFacts1796052763248 } from './1796052763248-analytics-facts';
import { MemberState1796100000000 } from './1796100000000-member-state';
import { Segments1796400000000 } from './1796400000000-segments';
import { IdempotencyKeys1764600000000 } from '@loyalty-graph/shared/db';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
export const migrations = [AnalyticsFacts1796052763248, MemberState1796100000000, IdempotencyKeys1764600000000, Segments1796400000000];
