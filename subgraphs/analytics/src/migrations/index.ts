import { IdempotencyKeys1764600000000 } from '@loyalty-graph/shared/db';
import { AnalyticsFacts1796052763248 } from './1796052763248-analytics-facts';
import { MemberState1796100000000 } from './1796100000000-member-state';
import { Experiments1796500000000 } from './1796500000000-experiments';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
// IdempotencyKeys: configureHoldout and createExperiment take an idempotencyKey (the shared table).
export const migrations = [AnalyticsFacts1796052763248, MemberState1796100000000, IdempotencyKeys1764600000000, Experiments1796500000000];
