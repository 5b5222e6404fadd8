import { IdempotencyKeys1764600000000 } from '@loyalty-graph/shared/db';
import { AnalyticsFacts1796052763248 } from './1796052763248-analytics-facts';
import { MemberState1796100000000 } from './1796100000000-member-state';
import { KpiDefinitions1796200000000 } from './1796200000000-kpi-definitions';
import { Surveys1796700500000 } from './1796700500000-surveys';
import { MoneyFacts1796300000000 } from './1796300000000-money-facts';
import { Experiments1796500000000 } from './1796500000000-experiments';
import { FactRecordedAt1796800000000 } from './1796800000000-fact-recorded-at';
import { Segments1796400000000 } from './1796400000000-segments';
import { ActivityRollups1796900000000 } from './1796900000000-activity-rollups';
import { MemberDays1797001200000 } from './1797001200000-member-days';
import { MemberProfile1797010000000 } from './1797010000000-member-profile';
import { ActivityRetained1797020000000 } from './1797020000000-activity-retained';
import { SegmentProfiles1797030000000 } from './1797030000000-segment-profiles';
import { FilteredRollups1797041000000 } from './1797041000000-filtered-rollups';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 */
// IdempotencyKeys: configureHoldout and createExperiment take an idempotencyKey (the shared table).
export const migrations = [AnalyticsFacts1796052763248, MemberState1796100000000, IdempotencyKeys1764600000000, KpiDefinitions1796200000000, MoneyFacts1796300000000, Segments1796400000000, Experiments1796500000000, Surveys1796700500000, FactRecordedAt1796800000000, ActivityRollups1796900000000, MemberDays1797001200000, MemberProfile1797010000000, ActivityRetained1797020000000, SegmentProfiles1797030000000, FilteredRollups1797041000000];
