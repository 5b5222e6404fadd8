import { InputError } from '@loyalty-graph/shared';

/**
 * Every bound a caller of partners can hit, in one place. Each is repeated in schema.graphql next
 * to the field it limits (limits-documented.test.ts holds the two together).
 */
export const LIMITS = {
  partnerNameLength: 100,
  /** People to talk to at one partner: a handful of roles (accounts, operations, marketing…). */
  contacts: 10,
  contactNameLength: 100,
  contactRoleLength: 100,
  /** RFC 5321's longest address. */
  emailLength: 254,
  phoneMinLength: 3,
  phoneMaxLength: 30,
  /** A price per point is a rate: the same bound and precision as a program's point value. */
  pricePerPoint: 1_000_000,
  pricePerPointDecimals: 8,
  feeAmount: 1_000_000_000,
  /** Prepaid points or a credit limit: below PostgreSQL's int. */
  points: 2_000_000_000,
  /** Dates (an agreement's start, a client's expiry) lie at most this far ahead. */
  dateRangeDays: 3_650,
  clientNameLength: 100,
  /** A prepaid block's reference: an invoice or order number. */
  referenceLength: 100,
  rateLimitPerMinute: 100_000,
  /** A week: long enough to roll a new key out to every till, short enough not to forget the old one. */
  overlapMinutes: 10_080,
  /** What a settlement payment was made with (a bank transfer's reference). */
  paymentReferenceLength: 200,
  offerTitleLength: 120,
  offerDescriptionLength: 2_000,
  /** Tiers or segments an offer targets: a program has a handful of tiers; segments are named groups. */
  offerTargets: 20,
} as const;

/** Input checks: one rule for every subgraph (@loyalty-graph/shared text-input.ts). */
export { checkInt, checkText, checkUuid, optionalText } from '@loyalty-graph/shared';

/** A date after now and within LIMITS.dateRangeDays of it. */
export function checkFutureDate(value: Date, field: string, now: Date): Date {
  if (value.getTime() <= now.getTime()) throw new InputError(`${field.split('.').pop()} must be in the future`, field);
  if (value.getTime() - now.getTime() > LIMITS.dateRangeDays * 86_400_000) throw new InputError(`${field.split('.').pop()} must be within ${LIMITS.dateRangeDays.toLocaleString('en-US')} days of now`, field);
  return value;
}
