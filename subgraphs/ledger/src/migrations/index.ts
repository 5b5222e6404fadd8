import { LedgerCore1763900000000 } from './1763900000000-ledger-core';
import { ReferralBonuses1764300000000 } from './1764300000000-referral-bonuses';
import { EntryIdFromPayload1764500000000 } from './1764500000000-entry-id-from-payload';
import { PlausiblePurchases1764900000000 } from './1764900000000-plausible-purchases';
import { HoldRefunds1765100000000 } from './1765100000000-hold-refunds';
import { PartnerFunding1796840000001 } from './1796840000001-partner-funding';
import { ExperimentTreatments1796510000000 } from './1796510000000-experiment-treatments';
import { PurchaseImports1796830000000 } from './1796830000000-purchase-imports';
import { BalancesPerStatement1796830000001 } from './1796830000001-balances-per-statement';
import { PurchaseTier1796520000000 } from './1796520000000-purchase-tier';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers, member snapshots) and TypeORM runs them all in timestamp order.
 * The shared IdempotencyKeys migration is not listed: the ledger's idempotency_keys table came first,
 * with LedgerCore, and has the same shape (test/idempotency-keys.test.ts holds them to it).
 */
export const migrations = [
  LedgerCore1763900000000,
  ReferralBonuses1764300000000,
  EntryIdFromPayload1764500000000,
  PlausiblePurchases1764900000000,
  HoldRefunds1765100000000,
  PurchaseImports1796830000000,
  BalancesPerStatement1796830000001,
  PartnerFunding1796840000001,
  ExperimentTreatments1796510000000,
  PurchaseTier1796520000000,
];
