import { InputError } from '@loyalty-graph/shared';

/**
 * Every bound a caller of the ledger can hit, in one place. Each is repeated in schema.graphql
 * next to the field it limits (a test reads the schema and holds the two together), so an
 * integrator finds it before the error message does. A bound here is about plausibility, not
 * business policy: a program's own limits (monthly transfers, the return window) are settings.
 *
 * Points are stored as PostgreSQL int (at most 2,147,483,647 per row and per balance): every
 * bound on a single movement keeps far below that, so no sum of a few movements can overflow a
 * column and turn a caller's mistake into a database error.
 */
export const LIMITS = {
  /** Lines in one basket (a hypermarket receipt rarely reaches 200). */
  basketLines: 500,
  /** Items on one line. */
  lineQuantity: 100_000,
  /** One line's amount in its currency: a line over a trillion is a typo, not a purchase. */
  lineAmount: 1_000_000_000_000,
  /** lineId, sku, category, multiplier values, campaign categories and channels. */
  codeLength: 64,
  sourceLength: 64,
  externalIdLength: 128,
  /** Purchases in one recordPurchases call: a partner's batch, answered synchronously. */
  bulkPurchaseLines: 1_000,
  /** Lines in one chunk of a purchase import: as a recordPurchases call, one request's worth. */
  importChunkLines: 1_000,
  /** Chunks of one import (1,000,000 lines): a year of a large partner's sales, still one job. */
  importChunks: 1_000,
  /** A card, email or phone as typed at the till (members' own bound). */
  identifierLength: 320,
  holdReferenceLength: 128,
  /** Why captured points are refunded (a cancelled order's reason): as long as a hold's reference. */
  refundReasonLength: 128,
  /** Free-text comments: adjustments, reinstatements, return reasons. */
  commentLength: 500,
  transferMessageLength: 200,
  charityNameLength: 100,
  campaignNameLength: 100,
  /** One manual adjustment, either way. */
  adjustmentPoints: 10_000_000,
  /** One transfer or donation. */
  transferPoints: 10_000_000,
  /** One hold (a reward order). */
  holdPoints: 100_000_000,
  /** What one purchase (and one cap period) can earn. */
  purchasePoints: 1_000_000_000,
  basePoints: 10_000,
  multipliers: 100,
  campaigns: 50,
  /** Categories or channels one campaign lists. */
  campaignFilters: 100,
  /**
   * How far ahead of the ledger's clock a purchase may be dated. A purchase decides its rules,
   * campaigns, caps and return window by its date, so a date ahead of now is always a wrong clock
   * (till clocks are NTP-synced; five minutes covers their drift and the request's travel). Not a
   * day: a till set to the wrong time zone would then earn tomorrow's campaign today unnoticed.
   */
  purchaseFutureSkewMs: 5 * 60_000,
  /**
   * The oldest any purchase may be, whoever records it, and the most a program's
   * purchaseMaxAgeDays setting allows: ten years covers any history import (expiry and tier
   * periods do not look further back); a purchase from 1970 is a missing date, not history.
   */
  purchaseMaxAgeDaysCeiling: 3_650,
  /**
   * Earning rules and campaigns are dated at most this far from now either way: past for rules in
   * force during a history import, future for planned versions.
   */
  ruleDateRangeDays: 3_650,
} as const;

/** A whole number of points from `min` to `max`, or a BAD_USER_INPUT naming the field and the range. */
export function checkPoints(value: number, field: string, min: number, max: number, nonZero = false): void {
  if (!Number.isInteger(value) || value < min || value > max || (nonZero && value === 0)) {
    const range = min < 0 ? `from -${max} to ${max}${nonZero ? ', not 0' : ''}` : `from ${min} to ${max}`;
    throw new InputError(`${field.split('.').pop()} must be a whole number ${range}`, field);
  }
}

/** Free text: one rule for every subgraph (@loyalty-graph/shared text-input.ts). */
export { checkText, optionalText } from '@loyalty-graph/shared';

/** A list of at most `max` items. */
export function checkListLength(list: readonly unknown[] | null | undefined, field: string, max: number): void {
  if (list && list.length > max) throw new InputError(`${field.split('.').pop()} has at most ${max} items, got ${list.length}`, field);
}
