import { AnalyticsFacts1796052763248 } from './1796052763248-analytics-facts';
import { MemberState1796100000000 } from './1796100000000-member-state';
import { KpiDefinitions1796200000000 } from './1796200000000-kpi-definitions';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
export const migrations = [AnalyticsFacts1796052763248, MemberState1796100000000, KpiDefinitions1796200000000];
