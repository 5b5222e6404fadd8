import { selectList } from '@loyalty-graph/shared/db';
import type { EntryKind } from '../domain/journal';

export interface JournalEntryRow {
  id: string;
  programId: string;
  kind: EntryKind;
  memberId: string | null;
  /** What the entry did to its primary member's reward points (a statement shows the reader's own). */
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

export const entryColumns = selectList<JournalEntryRow>({
  id: 'e.id',
  programId: 'e.program_id',
  kind: 'e.kind',
  memberId: 'e.member_id',
  memberAmount: 'e.member_amount::int',
  description: 'e.description',
  reasonCode: 'e.reason_code',
  createdBy: 'e.created_by',
  seq: 'e.seq::text',
  correctsEntryId: 'e.corrects_entry_id',
  purchaseId: 'e.purchase_id',
  holdId: 'e.hold_id',
  createdAt: 'e.created_at',
});
