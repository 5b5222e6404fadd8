import { assertCurrencyScale, formatMoneyAmount, InputError } from '@loyalty-graph/shared';
import type { Experience, RewardType, Translation } from '../entities';
import { checkAudienceIds, checkDate, checkInt, checkText, checkUuid, LIMITS, optionalText } from './limits';

export interface RewardDetailsInput {
  defaultLocale: string;
  translations: readonly { locale: string; name: string; description?: string | null }[];
  points: number;
  cash?: { amount: string; currency: string } | null;
  unitCost?: { amount: string; currency: string } | null;
  availableFrom?: Date | null;
  availableUntil?: Date | null;
  perMemberLimit?: { count: number; days: number } | null;
  tierIds?: readonly string[] | null;
  memberGroupIds?: readonly string[] | null;
  experience?: { startsAt: Date; place: string; seats: number } | null;
  partnerId?: string | null;
  charityId?: string | null;
}

/** What a reward's details are once checked: the columns createReward and updateReward write. */
export interface RewardDetails {
  defaultLocale: string;
  translations: Translation[];
  points: number;
  cashAmount: string | null;
  cashCurrency: string | null;
  unitCostAmount: string | null;
  unitCostCurrency: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  limitCount: number | null;
  limitDays: number | null;
  tierIds: string[];
  memberGroupIds: string[];
  experience: Experience | null;
  partnerId: string | null;
  charityId: string | null;
}

const LOCALE = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;

/** A BCP 47-shaped tag, with its case as usually written (pl, en-GB): `pl` and `PL` are one locale. */
export function normaliseLocale(value: string, field: string): string {
  const tag = value.trim();
  if (tag.length < LIMITS.localeMinLength || tag.length > LIMITS.localeMaxLength || !LOCALE.test(tag)) {
    throw new InputError(`locale must be a BCP 47 tag such as pl or en-GB (${LIMITS.localeMinLength} to ${LIMITS.localeMaxLength} characters)`, field);
  }
  const [language, ...rest] = tag.split('-');
  return [language!.toLowerCase(), ...rest.map((part) => (part.length === 2 ? part.toUpperCase() : part))].join('-');
}

/**
 * Checks a reward's details for its type and returns them normalised. Malformed input is an
 * InputError naming the field (BAD_USER_INPUT); nothing here reads the database.
 */
export function checkRewardDetails(type: RewardType, input: RewardDetailsInput, now: Date): RewardDetails {
  if (input.translations.length < 1 || input.translations.length > LIMITS.translations) {
    throw new InputError(`translations must list 1 to ${LIMITS.translations} locales`, 'details.translations');
  }
  const translations: Translation[] = [];
  input.translations.forEach((t, i) => {
    const locale = normaliseLocale(t.locale, `details.translations.${i}.locale`);
    if (translations.some((seen) => seen.locale === locale)) throw new InputError(`locale ${locale} is listed twice`, `details.translations.${i}.locale`);
    translations.push({
      locale,
      name: checkText(t.name, `details.translations.${i}.name`, LIMITS.nameLength),
      description: optionalText(t.description, `details.translations.${i}.description`, LIMITS.descriptionLength),
    });
  });
  const defaultLocale = normaliseLocale(input.defaultLocale, 'details.defaultLocale');
  if (!translations.some((t) => t.locale === defaultLocale)) throw new InputError(`defaultLocale ${defaultLocale} has no translation`, 'details.defaultLocale');

  const points = checkInt(input.points, 'details.points', 1, LIMITS.rewardPoints);

  let cashAmount: string | null = null;
  let cashCurrency: string | null = null;
  if (input.cash) {
    const currency = input.cash.currency.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', 'details.cash.currency');
    assertCurrencyScale(input.cash.amount, currency, 'details.cash.amount');
    const value = Number(input.cash.amount);
    if (!(value > 0) || value > LIMITS.cashAmount) throw new InputError(`amount must be more than 0 and at most ${LIMITS.cashAmount.toLocaleString('en-US')}`, 'details.cash.amount');
    cashAmount = formatMoneyAmount(input.cash.amount, currency);
    cashCurrency = currency;
  }

  // The fulfilment cost of one unit (what the program pays its supplier): 0 is a free unit, so allowed.
  let unitCostAmount: string | null = null;
  let unitCostCurrency: string | null = null;
  if (input.unitCost) {
    const currency = input.unitCost.currency.trim().toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) throw new InputError('currency must be an ISO 4217 code such as EUR', 'details.unitCost.currency');
    if (!/^\d+(\.\d+)?$/.test(input.unitCost.amount)) throw new InputError('amount must be a decimal number of at least 0', 'details.unitCost.amount');
    assertCurrencyScale(input.unitCost.amount, currency, 'details.unitCost.amount');
    if (Number(input.unitCost.amount) > LIMITS.cashAmount) throw new InputError(`amount must be at most ${LIMITS.cashAmount.toLocaleString('en-US')}`, 'details.unitCost.amount');
    unitCostAmount = formatMoneyAmount(input.unitCost.amount, currency);
    unitCostCurrency = currency;
  }

  const availableFrom = input.availableFrom ? checkDate(input.availableFrom, 'details.availableFrom', now) : null;
  const availableUntil = input.availableUntil ? checkDate(input.availableUntil, 'details.availableUntil', now) : null;
  if (availableFrom && availableUntil && availableFrom >= availableUntil) throw new InputError('availableUntil must be after availableFrom', 'details.availableUntil');

  const limit = input.perMemberLimit;
  const limitCount = limit ? checkInt(limit.count, 'details.perMemberLimit.count', 1, LIMITS.limitCount) : null;
  const limitDays = limit ? checkInt(limit.days, 'details.perMemberLimit.days', 1, LIMITS.limitDays) : null;

  let experience: Experience | null = null;
  if (type === 'EXPERIENCE') {
    const e = input.experience;
    if (!e) throw new InputError('an EXPERIENCE needs its date, place and seats', 'details.experience');
    experience = {
      startsAt: checkDate(e.startsAt, 'details.experience.startsAt', now).toISOString(),
      place: checkText(e.place, 'details.experience.place', LIMITS.placeLength),
      seats: checkInt(e.seats, 'details.experience.seats', 1, LIMITS.seats),
    };
  } else if (input.experience) {
    throw new InputError('only an EXPERIENCE has experience details', 'details.experience');
  }

  let partnerId: string | null = null;
  if (type === 'PARTNER_SERVICE') {
    if (!input.partnerId) throw new InputError('a PARTNER_SERVICE needs its partnerId', 'details.partnerId');
    partnerId = checkUuid(input.partnerId, 'details.partnerId');
  } else if (input.partnerId) {
    throw new InputError('only a PARTNER_SERVICE has a partnerId', 'details.partnerId');
  }

  // Optional at creation (the charity may be set up in the ledger later); an order needs it.
  let charityId: string | null = null;
  if (input.charityId) {
    if (type !== 'CHARITY') throw new InputError('only a CHARITY has a charityId', 'details.charityId');
    charityId = checkUuid(input.charityId, 'details.charityId');
  }

  return {
    defaultLocale,
    translations,
    points,
    cashAmount,
    cashCurrency,
    unitCostAmount,
    unitCostCurrency,
    availableFrom,
    availableUntil,
    limitCount,
    limitDays,
    tierIds: checkAudienceIds(input.tierIds, 'details.tierIds'),
    memberGroupIds: checkAudienceIds(input.memberGroupIds, 'details.memberGroupIds'),
    experience,
    partnerId,
    charityId,
  };
}

/**
 * The translation for `locale`: the exact tag, else its language (en-GB → en), else the default
 * locale's. A reward always has its default locale's translation (checkRewardDetails).
 */
export function translationFor(reward: { defaultLocale: string; translations: readonly Translation[] }, locale: string | null | undefined): Translation {
  const find = (tag: string) => reward.translations.find((t) => t.locale.toLowerCase() === tag.toLowerCase());
  if (locale) {
    const exact = find(locale) ?? find(locale.split('-')[0]!);
    if (exact) return exact;
  }
  return find(reward.defaultLocale) ?? reward.translations[0]!;
}
