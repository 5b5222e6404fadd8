import { describe, expect, it } from 'vitest';
import { KPI_NAMES } from './kpi-definitions';
import { kpiValue, redemptionRate, referralConversion, retentionRate, type BucketCounts } from './kpi-values';

const bucket: BucketCounts = {
  enrolled: 4,
  pointsIssued: 200n,
  pointsRedeemed: 50n,
  pointsExpired: 10n,
  purchases: 3,
  accruedPoints: 100n,
  active: 2,
  activeAtStart: 3,
  retained: 1,
  churned: 2,
  baskets: [{ currency: 'EUR', spend: '100.0000', purchases: 3 }],
  pointsPending: 70n,
  referredEnrolments: 3,
  referralsQualified: 2,
};

describe('bucket KPIs', () => {
  it('derive rates from the counts', () => {
    expect(retentionRate(bucket)).toBe('0.3333');
    expect(redemptionRate(bucket)).toBe('0.2500');
    expect(referralConversion(bucket)).toBe('0.6667');
  });

  it('have no redemption rate when nothing (net) was issued, no conversion without referred enrolments', () => {
    expect(redemptionRate({ ...bucket, pointsIssued: 0n })).toBeNull();
    expect(redemptionRate({ ...bucket, pointsIssued: -5n })).toBeNull();
    expect(referralConversion({ ...bucket, referredEnrolments: 0, referralsQualified: 1 })).toBeNull();
    expect(retentionRate({ ...bucket, activeAtStart: 0, retained: 0 })).toBeNull();
  });

  it('give every KPI a value a criterion can compare', () => {
    expect(Object.fromEntries(KPI_NAMES.map((kpi) => [kpi, kpiValue(bucket, kpi)]))).toEqual({
      ENROLLED: '4',
      POINTS_ISSUED: '200',
      POINTS_REDEEMED: '50',
      POINTS_EXPIRED: '10',
      PURCHASES: '3',
      AVERAGE_POINTS_PER_PURCHASE: '33.33',
      ACTIVE: '2',
      CHURNED: '2',
      RETENTION_RATE: '0.3333',
      PURCHASE_FREQUENCY: '1.50',
      AVERAGE_BASKET: '33.33',
      POINTS_PENDING: '70',
      REDEMPTION_RATE: '0.2500',
      REFERRAL_CONVERSION: '0.6667',
    });
  });
});
