import { EventConsumers1764100000001, Outbox1764100000000 } from '@loyalty-graph/shared/events';
import { ScheduledJobs1764000000000 } from '@loyalty-graph/shared/subgraph';
import { LedgerCore1763900000000 } from './1763900000000-ledger-core';
import { ReferralBonuses1764300000000 } from './1764300000000-referral-bonuses';

export const migrations = [LedgerCore1763900000000, ScheduledJobs1764000000000, Outbox1764100000000, EventConsumers1764100000001, ReferralBonuses1764300000000];
