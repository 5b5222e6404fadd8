import { ScheduledJobs1764000000000 } from '@loyalty-graph/shared/subgraph';
import { LedgerCore1763900000000 } from './1763900000000-ledger-core';

export const migrations = [LedgerCore1763900000000, ScheduledJobs1764000000000];
