import { selectList } from '@loyalty-graph/shared/db';

export type RewardType = 'PHYSICAL' | 'E_VOUCHER' | 'EXPERIENCE' | 'PARTNER_SERVICE' | 'CHARITY';
export type RewardStatus = 'ACTIVE' | 'RETIRED';
export type RewardChange = 'CREATED' | 'UPDATED' | 'STOCK_RECEIVED' | 'RETIRED';

export interface Translation {
  locale: string;
  name: string;
  description: string | null;
}

export interface Experience {
  startsAt: string;
  place: string;
  seats: number;
}

/**
 * A row of `rewards` (typed SQL: its stock counters are moved by SQL increments under CHECK
 * constraints, never read-modify-write). Dates are ISO strings so a row is also its JSON snapshot.
 */
export interface RewardRow {
  id: string;
  programId: string;
  type: RewardType;
  status: RewardStatus;
  defaultLocale: string;
  translations: Translation[];
  points: number;
  cashAmount: string | null;
  cashCurrency: string | null;
  /** What one unit costs the program to fulfil (analytics' fulfilment cost); null when not set. */
  unitCostAmount: string | null;
  unitCostCurrency: string | null;
  availableFrom: string | null;
  availableUntil: string | null;
  stockReceived: number | null;
  stockReserved: number;
  stockSold: number;
  limitCount: number | null;
  limitDays: number | null;
  tierIds: string[];
  memberGroupIds: string[];
  experience: Experience | null;
  partnerId: string | null;
  /** The ledger charity a CHARITY reward's points are donated to. */
  charityId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const instant = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const rewardColumns = selectList<RewardRow>({
  id: 'r.id',
  programId: 'r.program_id',
  type: 'r.type',
  status: 'r.status',
  defaultLocale: 'r.default_locale',
  translations: 'r.translations',
  points: 'r.points',
  cashAmount: 'r.cash_amount::text',
  cashCurrency: 'r.cash_currency',
  unitCostAmount: 'r.unit_cost_amount::text',
  unitCostCurrency: 'r.unit_cost_currency',
  availableFrom: instant('r.available_from'),
  availableUntil: instant('r.available_until'),
  stockReceived: 'r.stock_received',
  stockReserved: 'r.stock_reserved',
  stockSold: 'r.stock_sold',
  limitCount: 'r.limit_count',
  limitDays: 'r.limit_days',
  tierIds: 'r.tier_ids::text[]',
  memberGroupIds: 'r.member_group_ids::text[]',
  experience: 'r.experience',
  partnerId: 'r.partner_id',
  charityId: 'r.charity_id::text',
  version: 'r.version',
  createdAt: instant('r.created_at'),
  updatedAt: instant('r.updated_at'),
});

/** A row of `reward_versions`: the snapshot is the reward's row as that change left it. */
export interface RewardVersionRow {
  rewardId: string;
  version: number;
  change: RewardChange;
  changedBy: string;
  changedAt: Date;
  snapshot: RewardRow;
}

export const rewardVersionColumns = selectList<RewardVersionRow>({
  rewardId: 'v.reward_id',
  version: 'v.version',
  change: 'v.change',
  changedBy: 'v.changed_by',
  changedAt: 'v.changed_at',
  snapshot: 'v.snapshot',
});
