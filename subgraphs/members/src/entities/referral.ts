import { selectList } from '@loyalty-graph/shared/db';

/** A referral: typed SQL (README rule), it changes only by set-based, conditional updates. */
export interface ReferralRow {
  id: string;
  programId: string;
  referrerId: string;
  refereeId: string;
  status: 'PENDING' | 'QUALIFIED';
  referrerBonus: number | null;
  refereeBonus: number | null;
  createdAt: Date;
  qualifiedAt: Date | null;
}

export const referralColumns = selectList<ReferralRow>({
  id: 'r.id',
  programId: 'r.program_id',
  referrerId: 'r.referrer_id',
  refereeId: 'r.referee_id',
  status: 'r.status',
  referrerBonus: 'r.referrer_bonus',
  refereeBonus: 'r.referee_bonus',
  createdAt: 'r.created_at',
  qualifiedAt: 'r.qualified_at',
});
