import type { KpiName } from './kpi-definitions';
import { averageBasket, divide, purchaseFrequency, rate, type Activity } from './kpi-formulas';
import { averagePerPurchase } from './kpis';

/** What SQL counts for one bucket; every published figure follows from these. */
export interface BucketCounts extends Activity {
  enrolled: number;
  pointsIssued: bigint;
  pointsRedeemed: bigint;
  pointsExpired: bigint;
  purchases: number;
  accruedPoints: bigint;
  baskets: readonly { currency: string; spend: string; purchases: number }[];
  pointsPending: bigint;
  referredEnrolments: number;
  referralsQualified: number;
}

export const retentionRate = (b: Activity) => rate(b.retained, b.activeAtStart);
export const frequency = (b: Pick<BucketCounts, 'purchases' | 'active'>) => purchaseFrequency(b.purchases, b.active);
export const basket = (b: Pick<BucketCounts, 'baskets'>) => averageBasket(b.baskets);
/** Redeemed / issued; null when nothing (net) was issued, since a rate over a negative issue means nothing. */
export const redemptionRate = (b: Pick<BucketCounts, 'pointsIssued' | 'pointsRedeemed'>) => (b.pointsIssued > 0n ? divide(b.pointsRedeemed, b.pointsIssued, 4) : null);
export const referralConversion = (b: Pick<BucketCounts, 'referralsQualified' | 'referredEnrolments'>) => rate(b.referralsQualified, b.referredEnrolments);

/** One KPI of a bucket as a decimal text (null when it has none), for comparing with a success criterion's target. */
export function kpiValue(b: BucketCounts, kpi: KpiName): string | null {
  switch (kpi) {
    case 'ENROLLED':
      return String(b.enrolled);
    case 'POINTS_ISSUED':
      return String(b.pointsIssued);
    case 'POINTS_REDEEMED':
      return String(b.pointsRedeemed);
    case 'POINTS_EXPIRED':
      return String(b.pointsExpired);
    case 'PURCHASES':
      return String(b.purchases);
    case 'AVERAGE_POINTS_PER_PURCHASE':
      return averagePerPurchase(b.accruedPoints, b.purchases);
    case 'ACTIVE':
      return String(b.active);
    case 'CHURNED':
      return String(b.churned);
    case 'RETENTION_RATE':
      return retentionRate(b);
    case 'PURCHASE_FREQUENCY':
      return frequency(b);
    case 'AVERAGE_BASKET':
      return basket(b)?.amount ?? null;
    case 'POINTS_PENDING':
      return String(b.pointsPending);
    case 'REDEMPTION_RATE':
      return redemptionRate(b);
    case 'REFERRAL_CONVERSION':
      return referralConversion(b);
  }
}
