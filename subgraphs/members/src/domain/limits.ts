import { InputError } from '@loyalty-graph/shared';

/**
 * Bounds on the members subgraph's inputs that are about plausibility rather than a program's
 * policy; each is repeated in schema.graphql next to the field it limits.
 */
export const LIMITS = {
  /** A point worth more than a million units of its currency is a typo (numeric(18,8) holds 10 integer digits). */
  pointValue: 1_000_000,
  /** Status points a tier may require; the ledger caps one purchase at 1,000,000,000 points. */
  qualifyingThreshold: 1_000_000_000,
  /**
   * How far ahead a manual tier assignment may bind. Not the period anchor: periods repeat both
   * ways from it, so any year is meaningful there (2000-07-01 means periods start on 1 July).
   */
  dateRangeDays: 3_650,
} as const;

const DAY = 86_400_000;

/** A date within ten years of now either way (or only ahead, with `futureOnly`). */
export function checkDateRange(at: Date, now: Date, field: string, futureOnly = false): Date {
  if (futureOnly && at <= now) throw new InputError(`${field} must be in the future`, field);
  if (Math.abs(at.getTime() - now.getTime()) > LIMITS.dateRangeDays * DAY) {
    throw new InputError(`${field} must be within ${LIMITS.dateRangeDays} days of now`, field);
  }
  return at;
}
