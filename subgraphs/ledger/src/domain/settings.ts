import { InputError } from '@loyalty-graph/shared';

export type ClawbackPolicy = 'NEGATIVE_BALANCE' | 'WRITE_OFF';
export type ExpiryPolicy = 'NEVER' | 'ROLLING_MONTHS' | 'END_OF_NEXT_YEAR';

export interface LedgerSettings {
  returnWindowDays: number;
  clawbackPolicy: ClawbackPolicy;
  expiryPolicy: ExpiryPolicy;
  expiryMonths: number | null;
  holdTtlMinutes: number;
}

/** What a program gets until an admin configures its ledger. */
export const DEFAULT_SETTINGS: LedgerSettings = {
  returnWindowDays: 14,
  clawbackPolicy: 'NEGATIVE_BALANCE',
  expiryPolicy: 'NEVER',
  expiryMonths: null,
  holdTtlMinutes: 60,
};

export function mergeSettings(current: LedgerSettings, change: Partial<{ [K in keyof LedgerSettings]: LedgerSettings[K] | null }>): LedgerSettings {
  const next: LedgerSettings = {
    returnWindowDays: change.returnWindowDays ?? current.returnWindowDays,
    clawbackPolicy: change.clawbackPolicy ?? current.clawbackPolicy,
    expiryPolicy: change.expiryPolicy ?? current.expiryPolicy,
    expiryMonths: change.expiryMonths !== undefined ? change.expiryMonths : current.expiryMonths,
    holdTtlMinutes: change.holdTtlMinutes ?? current.holdTtlMinutes,
  };
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
