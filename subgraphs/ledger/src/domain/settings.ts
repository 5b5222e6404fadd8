import { InputError } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

export type ClawbackPolicy = 'NEGATIVE_BALANCE' | 'WRITE_OFF';
export type ExpiryPolicy = 'NEVER' | 'ROLLING_MONTHS' | 'END_OF_NEXT_YEAR';

export interface LedgerSettings {
  returnWindowDays: number;
  clawbackPolicy: ClawbackPolicy;
  expiryPolicy: ExpiryPolicy;
  expiryMonths: number | null;
  holdTtlMinutes: number;
  /** Most points a member may send to other members per calendar month (0: transfers off). */
  monthlyTransferLimit: number;
  /** Most points a member may donate per calendar month (0: donations off). */
  monthlyDonationLimit: number;
  /**
   * The oldest purchase tills, partner feeds and agents may record, in days before now. Late
   * uploads from offline tills and partner files arrive within weeks; anything older is a wrong
   * date or a replayed file. The program's admins import older history (up to ten years).
   */
  purchaseMaxAgeDays: number;
}

/** What a program gets until an admin configures its ledger. */
export const DEFAULT_SETTINGS: LedgerSettings = {
  returnWindowDays: 14,
  clawbackPolicy: 'NEGATIVE_BALANCE',
  expiryPolicy: 'NEVER',
  expiryMonths: null,
  holdTtlMinutes: 60,
  monthlyTransferLimit: 10_000,
  monthlyDonationLimit: 100_000,
  purchaseMaxAgeDays: 90,
};

export function mergeSettings(current: LedgerSettings, change: Partial<{ [K in keyof LedgerSettings]: LedgerSettings[K] | null }>): LedgerSettings {
  const next: LedgerSettings = {
    returnWindowDays: change.returnWindowDays ?? current.returnWindowDays,
    clawbackPolicy: change.clawbackPolicy ?? current.clawbackPolicy,
    expiryPolicy: change.expiryPolicy ?? current.expiryPolicy,
    expiryMonths: change.expiryMonths !== undefined ? change.expiryMonths : current.expiryMonths,
    holdTtlMinutes: change.holdTtlMinutes ?? current.holdTtlMinutes,
    monthlyTransferLimit: change.monthlyTransferLimit ?? current.monthlyTransferLimit,
    monthlyDonationLimit: change.monthlyDonationLimit ?? current.monthlyDonationLimit,
    purchaseMaxAgeDays: change.purchaseMaxAgeDays ?? current.purchaseMaxAgeDays,
  };
  for (const field of ['monthlyTransferLimit', 'monthlyDonationLimit'] as const) {
    if (!Number.isInteger(next[field]) || next[field] < 0 || next[field] > 100_000_000) throw new InputError(`${field} must be 0 to 100000000`, field);
  }
  const maxAge = LIMITS.purchaseMaxAgeDaysCeiling;
  if (!Number.isInteger(next.purchaseMaxAgeDays) || next.purchaseMaxAgeDays < 1 || next.purchaseMaxAgeDays > maxAge) {
    throw new InputError(`purchaseMaxAgeDays must be 1 to ${maxAge}`, 'purchaseMaxAgeDays');
  }
  if (!Number.isInteger(next.returnWindowDays) || next.returnWindowDays < 0 || next.returnWindowDays > 365) throw new InputError('returnWindowDays must be 0 to 365', 'returnWindowDays');
  if (!Number.isInteger(next.holdTtlMinutes) || next.holdTtlMinutes < 1 || next.holdTtlMinutes > 43_200) throw new InputError('holdTtlMinutes must be 1 to 43200', 'holdTtlMinutes');
  if (next.expiryPolicy === 'ROLLING_MONTHS') {
    if (next.expiryMonths === null || !Number.isInteger(next.expiryMonths) || next.expiryMonths < 1 || next.expiryMonths > 120) {
      throw new InputError('ROLLING_MONTHS needs expiryMonths from 1 to 120', 'expiryMonths');
    }
  } else {
    next.expiryMonths = null;
  }
  return next;
}

/** When a purchase's pending points post: the end of the return window. */
export function postsAt(occurredAt: Date, settings: LedgerSettings): Date {
  return new Date(occurredAt.getTime() + settings.returnWindowDays * 86_400_000);
}

/**
 * When points earned at `earnedAt` expire under the program's policy; null when they never do.
 * END_OF_NEXT_YEAR: points earned in 2026 expire at the start of 2028 (UTC).
 */
export function expiryFor(earnedAt: Date, settings: Pick<LedgerSettings, 'expiryPolicy' | 'expiryMonths'>): Date | null {
  switch (settings.expiryPolicy) {
    case 'NEVER':
      return null;
    case 'END_OF_NEXT_YEAR':
      return new Date(Date.UTC(earnedAt.getUTCFullYear() + 2, 0, 1));
    case 'ROLLING_MONTHS': {
      const at = new Date(earnedAt);
      const day = at.getUTCDate();
      at.setUTCDate(1);
      at.setUTCMonth(at.getUTCMonth() + (settings.expiryMonths ?? 0));
      // Clamp to the month's last day: earned 31 January + 1 month expires 28/29 February.
      const lastDay = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 0)).getUTCDate();
      at.setUTCDate(Math.min(day, lastDay));
      return at;
    }
  }
}
