import { selectList } from '@loyalty-graph/shared/db';

export type HoldStatus = 'OPEN' | 'CAPTURED' | 'RELEASED' | 'EXPIRED';

export interface HoldRow {
  id: string;
  programId: string;
  memberId: string;
  points: number;
  reference: string;
  status: HoldStatus;
  /** Of a captured hold's points, how many refunds gave back (0 to points). */
  refundedPoints: number;
  expiresAt: Date;
  createdAt: Date;
}

export const holdColumns = selectList<HoldRow>({
  id: 'h.id',
  programId: 'h.program_id',
  memberId: 'h.member_id',
  points: 'h.points',
  reference: 'h.reference',
  status: 'h.status',
  refundedPoints: 'h.refunded_points',
  expiresAt: 'h.expires_at',
  createdAt: 'h.created_at',
});
