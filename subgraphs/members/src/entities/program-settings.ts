import { selectList } from '@loyalty-graph/shared/db';
import type { ReferralRules } from '../domain/referral';
import type { TierRules } from '../domain/tier-qualification';

/**
 * A program's tier and referral rules: typed SQL (README rule), read on every accrual's hot path,
 * joined onto the member's row. A program without a row has the defaults (`toSettings`).
 */
export interface ProgramSettingsRow {
  programId: string;
  periodMonths: number;
  periodAnchor: Date;
  downgrade: TierRules['downgrade'];
  graceDays: number;
  manualMode: TierRules['manualMode'];
  referralTrigger: ReferralRules['trigger'];
  referrerBonus: number;
  refereeBonus: number;
  updatedAt: Date;
}

export const programSettingsColumns = selectList<ProgramSettingsRow>({
  programId: 's.program_id',
  periodMonths: 's.period_months',
  periodAnchor: 's.period_anchor',
  downgrade: 's.downgrade',
  graceDays: 's.grace_days',
  manualMode: 's.manual_mode',
  referralTrigger: 's.referral_trigger',
  referrerBonus: 's.referrer_bonus',
  refereeBonus: 's.referee_bonus',
  updatedAt: 's.updated_at',
});
