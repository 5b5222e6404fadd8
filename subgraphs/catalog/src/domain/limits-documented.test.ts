import { inputFieldDescriptions } from '@loyalty-graph/testing/schema-docs';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits';

/**
 * Every limit a caller can hit is written in the schema next to the field it limits: change a
 * bound in LIMITS without changing the docs and this fails.
 */
const shown = (n: number) => n.toLocaleString('en-US');
const fields = inputFieldDescriptions(new URL('../../schema.graphql', import.meta.url));

const documented: [string, (string | number)[]][] = [
  ['RewardTranslationInput.locale', [`${LIMITS.localeMinLength} to ${LIMITS.localeMaxLength}`]],
  ['RewardTranslationInput.name', [`1 to ${LIMITS.nameLength}`]],
  ['RewardTranslationInput.description', [LIMITS.descriptionLength]],
  ['RewardLimitInput.count', [`1 to ${shown(LIMITS.limitCount)}`]],
  ['RewardLimitInput.days', [`1 to ${shown(LIMITS.limitDays)}`]],
  ['ExperienceInput.startsAt', [LIMITS.dateRangeDays]],
  ['ExperienceInput.place', [`1 to ${LIMITS.placeLength}`]],
  ['ExperienceInput.seats', [`1 to ${shown(LIMITS.seats)}`]],
  ['RewardDetailsInput.translations', [`1 to ${LIMITS.translations}`]],
  ['RewardDetailsInput.points', [`1 to ${shown(LIMITS.rewardPoints)}`]],
  ['RewardDetailsInput.cash', [LIMITS.cashAmount, "currency's decimals"]],
  ['RewardDetailsInput.availableFrom', [LIMITS.dateRangeDays]],
  ['RewardDetailsInput.availableUntil', [LIMITS.dateRangeDays]],
  ['RewardDetailsInput.tierIds', [LIMITS.audienceIds]],
  ['RewardDetailsInput.memberGroupIds', [LIMITS.audienceIds]],
  ['CreateRewardInput.stock', [`0 to ${shown(LIMITS.stockUnits)}`]],
  ['ReceiveRewardStockInput.units', [`1 to ${shown(LIMITS.stockUnits)}`]],
  ['CreateCatalogInput.name', [`1 to ${LIMITS.catalogNameLength}`]],
  ['CreateCatalogInput.tierIds', [LIMITS.audienceIds]],
  ['CreateCatalogInput.memberGroupIds', [LIMITS.audienceIds]],
  ['SetCatalogRewardsInput.rewardIds', [LIMITS.catalogRewards]],
  ['PlaceRewardOrderInput.lines', [`1 to ${LIMITS.orderLines}`]],
  ['RewardOrderLineInput.quantity', [`1 to ${LIMITS.orderQuantity}`]],
  ['RewardOrderUnitsInput.quantity', ['1 up to']],
  ['CancelRewardOrderInput.reason', [LIMITS.reasonLength]],
  ['RewardOrderIdsInput.orderIds', [`1 to ${LIMITS.bulkOrders}`]],
  ['ShipRewardOrdersInput.shipments', [`1 to ${LIMITS.bulkOrders}`]],
  ['OpenComplaintInput.description', [`1 to ${shown(LIMITS.complaintDescriptionLength)}`]],
  ['AskMemberAboutComplaintInput.note', [`1 to ${shown(LIMITS.complaintNoteLength)}`]],
  ['ReplyToComplaintInput.note', [`1 to ${shown(LIMITS.complaintNoteLength)}`]],
  ['ResolveComplaintInput.points', [`1 to ${shown(LIMITS.rewardPoints)}`]],
  ['ResolveComplaintInput.note', [`1 to ${LIMITS.reasonLength}`]],
  ['RejectComplaintInput.reason', [`1 to ${LIMITS.reasonLength}`]],
  ['ConfigureComplaintsInput.deadlineDays', [`1 to ${LIMITS.complaintDeadlineDays}`]],
  ['ImportVoucherCodesInput.codes', [`1 to ${shown(LIMITS.voucherCodesPerImport)}`, `${LIMITS.voucherCodeMinLength} to ${LIMITS.voucherCodeMaxLength}`]],
];

describe('the catalog schema documents its limits', () => {
  it.each(documented)('%s says %j', (field, limits) => {
    const description = fields.get(field);
    expect(description, `${field} is not an input field of the schema`).toBeDefined();
    for (const limit of limits) expect(description).toContain(typeof limit === 'number' ? shown(limit) : limit);
  });

  it('says what an idempotency key looks like wherever one is asked for', () => {
    const keys = [...fields].filter(([name]) => name.endsWith('.idempotencyKey'));
    expect(keys.length).toBe(8);
    for (const [name, description] of keys) expect(description, name).toContain('8 to 100 letters, digits or . _ : -');
  });
});
