import { checkInt, checkText, checkUuid, InputError, optionalText } from '@loyalty-graph/shared';

/**
 * Every bound a caller of catalog can hit, in one place. Each is repeated in schema.graphql next
 * to the field it limits (limits-documented.test.ts holds the two together). Bounds are about
 * plausibility; counters stay far below PostgreSQL's int (2,147,483,647).
 */
export const LIMITS = {
  nameLength: 200,
  descriptionLength: 2_000,
  /** A program in several countries has a handful of languages; 20 leaves room. */
  translations: 20,
  localeMinLength: 2,
  localeMaxLength: 35,
  /** The same ceiling as one ledger hold: a reward costing more could never be ordered. */
  rewardPoints: 100_000_000,
  cashAmount: 1_000_000_000,
  /** Units in stock at creation and per receipt; 200 receipts stay below an int. */
  stockUnits: 10_000_000,
  limitCount: 1_000,
  limitDays: 3_650,
  /** Tier ids or member group ids on one reward or catalog. */
  audienceIds: 50,
  placeLength: 200,
  seats: 1_000_000,
  /** Dates (availability, an experience's start) lie at most this far from now either way. */
  dateRangeDays: 3_650,
  catalogNameLength: 100,
  catalogRewards: 500,
  /** Lines in one reward order; a basket, not a bulk import. */
  orderLines: 20,
  /** Units of one line. */
  orderQuantity: 100,
  reasonLength: 500,
  /** Orders packed, shipped or delivered in one call: a day's parcels. */
  bulkOrders: 500,
  /** Codes per importVoucherCodes call: a supplier's file; bigger ones are split (one transaction each). */
  voucherCodesPerImport: 10_000,
  /** A voucher code's length after trimming: shorter is guessable, longer is not a code. */
  voucherCodeMinLength: 4,
  voucherCodeMaxLength: 64,
  /** What went wrong, in the member's words: a few paragraphs. */
  complaintDescriptionLength: 2_000,
  /** A question to the member, or their answer. */
  complaintNoteLength: 2_000,
  /** A program's complaint deadline: a day at least, a year at most. */
  complaintDeadlineDays: 365,
} as const;

/** Input checks: one rule for every subgraph (@loyalty-graph/shared text-input.ts). */
export { checkInt, checkText, checkUuid, optionalText };

/** Up to LIMITS.audienceIds distinct UUIDs (duplicates dropped, order kept). */
export function checkAudienceIds(values: readonly string[] | null | undefined, field: string): string[] {
  const ids = values ?? [];
  if (ids.length > LIMITS.audienceIds) throw new InputError(`${field} may list at most ${LIMITS.audienceIds} ids`, field);
  return [...new Set(ids.map((id, i) => checkUuid(id, `${field}.${i}`)))];
}

/** A date within LIMITS.dateRangeDays of now. */
export function checkDate(value: Date, field: string, now: Date): Date {
  const range = LIMITS.dateRangeDays * 86_400_000;
  if (Math.abs(value.getTime() - now.getTime()) > range) throw new InputError(`${field.split('.').pop()} must be within ${LIMITS.dateRangeDays} days of now`, field);
  return value;
}
