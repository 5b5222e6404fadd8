import { selectList } from '@loyalty-graph/shared/db';
import type { EarnedLine } from '../domain/earning';

/** A basket line as stored with its purchase: what was bought and what it earned, and why. */
export interface StoredLine extends EarnedLine {
  sku: string;
  category: string;
  quantity: number;
  amount: string;
}

export interface PurchaseRow {
  id: string;
  programId: string;
  memberId: string;
  source: string;
  externalId: string;
  channel: string;
  partnerId: string | null;
  currency: string;
  total: string;
  points: number;
  statusPoints: number;
  lines: StoredLine[];
  ruleSetVersion: number | null;
  occurredAt: Date;
  postsAt: Date;
  postedAt: Date | null;
  accrualEntryId: string | null;
  returnedPoints: number;
  returnedStatusPoints: number;
}

export const purchaseColumns = selectList<PurchaseRow>({
  id: 'p.id',
  programId: 'p.program_id',
  memberId: 'p.member_id',
  source: 'p.source',
  externalId: 'p.external_id',
  channel: 'p.channel',
  partnerId: 'p.partner_id',
  currency: 'p.currency',
  total: 'p.total::text',
  points: 'p.points',
  statusPoints: 'p.status_points',
  lines: 'p.lines',
  ruleSetVersion: 'p.rule_set_version',
  occurredAt: 'p.occurred_at',
  postsAt: 'p.posts_at',
  postedAt: 'p.posted_at',
  accrualEntryId: 'p.accrual_entry_id',
  returnedPoints: 'p.returned_points',
  returnedStatusPoints: 'p.returned_status_points',
});
