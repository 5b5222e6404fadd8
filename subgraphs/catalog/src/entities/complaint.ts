import { selectList } from '@loyalty-graph/shared/db';
import type { ComplaintReason, ComplaintResolution, ComplaintStatus } from '../domain/complaints';

/** A row of `complaints` as readers see it (the resolving claim stays in the service). */
export interface ComplaintRow {
  id: string;
  seq: string;
  programId: string;
  orderId: string;
  lineId: string | null;
  memberId: string;
  reason: ComplaintReason;
  description: string;
  status: ComplaintStatus;
  resolution: ComplaintResolution | null;
  resolutionNote: string | null;
  pointsRefunded: number;
  replacementOrderId: string | null;
  dueAt: Date;
  pausedAt: Date | null;
  openedBy: string;
  createdAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
}

export const complaintColumns = selectList<ComplaintRow>({
  id: 'c.id',
  seq: 'c.seq::text',
  programId: 'c.program_id',
  orderId: 'c.order_id',
  lineId: 'c.line_id',
  memberId: 'c.member_id',
  reason: 'c.reason',
  description: 'c.description',
  status: 'c.status',
  resolution: 'c.resolution',
  resolutionNote: 'c.resolution_note',
  pointsRefunded: 'c.points_refunded',
  replacementOrderId: 'c.replacement_order_id',
  dueAt: 'c.due_at',
  pausedAt: 'c.paused_at',
  openedBy: 'c.opened_by',
  createdAt: 'c.created_at',
  updatedAt: 'c.updated_at',
  resolvedAt: 'c.resolved_at',
});

export interface ComplaintChangeRow {
  complaintId: string;
  from: ComplaintStatus | null;
  to: ComplaintStatus;
  changedBy: string;
  note: string | null;
  changedAt: Date;
}

export const complaintChangeColumns = selectList<ComplaintChangeRow>({
  complaintId: 'h.complaint_id',
  from: 'h.from_status',
  to: 'h.to_status',
  changedBy: 'h.changed_by',
  note: 'h.note',
  changedAt: 'h.changed_at',
});
