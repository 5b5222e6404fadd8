/**
 * Row shapes of the ledger's tables. Unlike members, the ledger reads and writes SQL directly
 * instead of through TypeORM entities: its invariants (balanced entries, immutable lines, cached
 * balances, no overdraft) are enforced by triggers in the migration, and every write is a few
 * set-based statements on the hot path. TypeORM still runs the migrations.
 */
export interface AccountRow {
  id: string;
  programId: string;
  kind: string;
  ownerId: string | null;
}

export interface JournalEntryRow {
  id: string;
  programId: string;
  kind: EntryKind;
  memberId: string | null;
  memberAmount: number | null;
  description: string | null;
  reasonCode: string | null;
  createdBy: string | null;
  /** Monotonic tie-breaker for entries with the same timestamp (a bigint, as text). */
  seq: string;
  correctsEntryId: string | null;
  purchaseId: string | null;
  holdId: string | null;
  createdAt: Date;
}

export interface JournalLineRow {
  entryId: string;
  accountId: string;
  bucket: 'POSTED' | 'PENDING' | 'HELD';
  amount: number;
}

export interface MemberBalanceRow {
  memberId: string;
  programId: string;
  /** Null for a member who has no accounts yet. */
  rewardAccountId: string | null;
  statusAccountId: string | null;
  posted: number;
  pending: number;
  held: number;
  statusPoints: number;
  lifetimeEarned: number;
}

export type { PurchaseRow } from '../services/purchases';
import type { EntryKind } from '../domain/journal';
export type { HoldRow } from '../services/holds';
export type { RuleSetRow } from '../services/program-ledger';

/** No TypeORM entities: see above. */
export const entities = [];
