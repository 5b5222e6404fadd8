import { selectList } from '@loyalty-graph/shared/db';
import type { LedgerSettings } from '../domain/settings';

/** A ledger_settings row is exactly the domain's settings (a program without one has the defaults). */
export const ledgerSettingsColumns = selectList<LedgerSettings>({
  returnWindowDays: 's.return_window_days',
  clawbackPolicy: 's.clawback_policy',
  expiryPolicy: 's.expiry_policy',
  expiryMonths: 's.expiry_months',
  holdTtlMinutes: 's.hold_ttl_minutes',
  monthlyTransferLimit: 's.monthly_transfer_limit',
  monthlyDonationLimit: 's.monthly_donation_limit',
  purchaseMaxAgeDays: 's.purchase_max_age_days',
});
