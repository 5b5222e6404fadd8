import { DomainError, InputError } from '@loyalty-graph/shared';
import { LIMITS } from './limits';

const DAY = 86_400_000;

/**
 * Whether a purchase may be recorded with this date. Three bounds, from the firmest:
 * - never ahead of the ledger's clock by more than the allowed skew (a future date would hold
 *   its points pending until then and let it earn campaigns that have not started): malformed;
 * - never older than ten years, whoever records it (a missing or defaulted date): malformed;
 * - for tills, partner feeds and agents, not older than the program's purchaseMaxAgeDays: the
 *   request is well formed but the program says no, so it is a business refusal (PURCHASE_TOO_OLD).
 *   The program's admins are not held to it: importing a program's history is their job.
 */
export function checkPurchaseDate(occurredAt: Date, now: Date, purchaseMaxAgeDays: number, importsHistory: boolean): void {
  const ahead = occurredAt.getTime() - now.getTime();
  if (ahead > LIMITS.purchaseFutureSkewMs) {
    throw new InputError(
      `occurredAt ${occurredAt.toISOString()} is in the future (the ledger's clock says ${now.toISOString()}; at most ${LIMITS.purchaseFutureSkewMs / 60_000} minutes of clock skew are accepted)`,
      'occurredAt',
    );
  }
  const age = -ahead;
  if (age > LIMITS.purchaseMaxAgeDaysCeiling * DAY) {
    throw new InputError(`occurredAt ${occurredAt.toISOString()} is more than ${LIMITS.purchaseMaxAgeDaysCeiling} days ago`, 'occurredAt');
  }
  if (!importsHistory && age > purchaseMaxAgeDays * DAY) {
    throw new DomainError(
      'PURCHASE_TOO_OLD',
      `The program accepts purchases up to ${purchaseMaxAgeDays} days old; ${occurredAt.toISOString()} is older (its administrators can import older history)`,
      'occurredAt',
    );
  }
}

/** A rule set's or campaign's date: within ten years of now either way. */
export function checkRuleDate(at: Date, now: Date, field: string): void {
  if (Math.abs(at.getTime() - now.getTime()) > LIMITS.ruleDateRangeDays * DAY) {
    throw new InputError(`${field.split('.').pop()} must be within ${LIMITS.ruleDateRangeDays} days of now`, field);
  }
}
