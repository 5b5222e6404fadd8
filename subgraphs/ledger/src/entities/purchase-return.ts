import { selectList } from '@loyalty-graph/shared/db';
import type { ReturnSplit } from '../domain/journal';
import type { ClawbackPolicy } from '../domain/settings';

/** A return as recorded; the status points' split is in its entry's lines, not in the row. */
export interface ReturnRow extends Pick<ReturnSplit, 'fromPending' | 'fromPosted' | 'writtenOff'> {
  id: string;
  purchaseId: string;
  points: number;
  statusPoints: number;
  clawbackPolicy: ClawbackPolicy;
  entryId: string | null;
  createdAt: Date;
}

export const returnColumns = selectList<ReturnRow>({
  id: 'pr.id',
  purchaseId: 'pr.purchase_id',
  points: 'pr.points',
  statusPoints: 'pr.status_points',
  fromPending: 'pr.from_pending',
  fromPosted: 'pr.from_posted',
  writtenOff: 'pr.written_off',
  clawbackPolicy: 'pr.clawback_policy',
  entryId: 'pr.entry_id',
  createdAt: 'pr.created_at',
});
