import { selectList } from '@loyalty-graph/shared/db';
import type { RewardOrderStatus } from '@loyalty-graph/shared/contracts';
import type { ShippingAddress } from '../domain/shipping';

/** A row of `reward_orders` as readers see it (typed SQL; the saga columns stay in the service). */
export interface RewardOrderRow {
  id: string;
  seq: string;
  programId: string;
  memberId: string;
  status: RewardOrderStatus;
  points: number;
  pointsRefunded: number;
  cashAmount: string | null;
  cashCurrency: string | null;
  cashRefunded: string;
  paymentReference: string | null;
  shippingAddress: ShippingAddress | null;
  failureCode: string | null;
  reservationExpiresAt: Date;
  /** Set on a replacement sent for a complaint. */
  replacesComplaintId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const rewardOrderColumns = selectList<RewardOrderRow>({
  id: 'o.id',
  seq: 'o.seq::text',
  programId: 'o.program_id',
  memberId: 'o.member_id',
  status: 'o.status',
  points: 'o.points',
  pointsRefunded: 'o.points_refunded',
  cashAmount: 'o.cash_amount::text',
  cashCurrency: 'o.cash_currency',
  cashRefunded: 'o.cash_refunded::text',
  paymentReference: 'o.payment_reference',
  shippingAddress: 'o.shipping_address',
  failureCode: 'o.failure_code',
  reservationExpiresAt: 'o.reservation_expires_at',
  replacesComplaintId: 'o.replaces_complaint_id',
  createdAt: 'o.created_at',
  updatedAt: 'o.updated_at',
});

export interface RewardOrderLineRow {
  id: string;
  orderId: string;
  lineNo: number;
  rewardId: string;
  rewardVersion: number;
  quantity: number;
  pointsEach: number;
  cashEach: string | null;
  cancelled: number;
  returned: number;
  bookingReference: string | null;
  /** The order's, for cash amounts and the owner check of voucher codes. */
  cashCurrency: string | null;
  memberId: string;
  programId: string;
}

export const rewardOrderLineColumns = selectList<RewardOrderLineRow>({
  id: 'l.id',
  orderId: 'l.order_id',
  lineNo: 'l.line_no',
  rewardId: 'l.reward_id',
  rewardVersion: 'l.reward_version',
  quantity: 'l.quantity',
  pointsEach: 'l.points_each',
  cashEach: 'l.cash_each::text',
  cancelled: 'l.cancelled',
  returned: 'l.returned',
  bookingReference: 'l.booking_reference',
  cashCurrency: 'o.cash_currency',
  memberId: 'o.member_id',
  programId: 'o.program_id',
});

export interface RewardOrderChangeRow {
  orderId: string;
  from: RewardOrderStatus | null;
  to: RewardOrderStatus;
  changedBy: string;
  reason: string | null;
  changedAt: Date;
}

export const rewardOrderChangeColumns = selectList<RewardOrderChangeRow>({
  orderId: 'c.order_id',
  from: 'c.from_status',
  to: 'c.to_status',
  changedBy: 'c.changed_by',
  reason: 'c.reason',
  changedAt: 'c.changed_at',
});

export interface ShipmentRow {
  orderId: string;
  carrier: string;
  trackingNumber: string;
  trackingUrl: string | null;
  shippedAt: Date;
  deliveredAt: Date | null;
}

export const shipmentColumns = selectList<ShipmentRow>({
  orderId: 's.order_id',
  carrier: 's.carrier',
  trackingNumber: 's.tracking_number',
  trackingUrl: 's.tracking_url',
  shippedAt: 's.shipped_at',
  deliveredAt: 's.delivered_at',
});
