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
  ['PartnerContactInput.name', [`1 to ${LIMITS.contactNameLength}`]],
  ['PartnerContactInput.email', [LIMITS.emailLength]],
  ['PartnerContactInput.phone', [`${LIMITS.phoneMinLength} to ${LIMITS.phoneMaxLength}`]],
  ['PartnerContactInput.role', [LIMITS.contactRoleLength]],
  ['CreatePartnerInput.name', [`1 to ${LIMITS.partnerNameLength}`]],
  ['CreatePartnerInput.contacts', [`Up to ${LIMITS.contacts}`]],
  ['UpdatePartnerInput.name', [`1 to ${LIMITS.partnerNameLength}`]],
  ['UpdatePartnerInput.contacts', [`Up to ${LIMITS.contacts}`]],
  ['PartnerAgreementFeesInput.fixedPerPeriod', [`0 to ${shown(LIMITS.feeAmount)}`, "currency's decimals"]],
  ['PartnerAgreementFeesInput.perTransaction', [`0 to ${shown(LIMITS.feeAmount)}`, "currency's decimals"]],
  ['PublishPartnerAgreementInput.effectiveFrom', [shown(LIMITS.dateRangeDays)]],
  ['PublishPartnerAgreementInput.issuePricePerPoint', [`0 to ${shown(LIMITS.pricePerPoint)}`, `${LIMITS.pricePerPointDecimals} decimals`]],
  ['PublishPartnerAgreementInput.redemptionPricePerPoint', [`0 to ${shown(LIMITS.pricePerPoint)}`, `${LIMITS.pricePerPointDecimals} decimals`]],
  ['PublishPartnerAgreementInput.prepaidPoints', [`1 to ${shown(LIMITS.points)}`]],
  ['PublishPartnerAgreementInput.creditLimitPoints', [`1 to ${shown(LIMITS.points)}`]],
  ['CreatePartnerApiClientInput.name', [`1 to ${LIMITS.clientNameLength}`]],
  ['CreatePartnerApiClientInput.expiresAt', [shown(LIMITS.dateRangeDays)]],
  ['CreatePartnerApiClientInput.rateLimitPerMinute', [`1 to ${shown(LIMITS.rateLimitPerMinute)}`]],
  ['RotatePartnerApiKeyInput.overlapMinutes', [`0 to ${shown(LIMITS.overlapMinutes)}`]],
  ['AddPartnerPrepaidPointsInput.points', [`1 to ${shown(LIMITS.points)}`]],
  ['AddPartnerPrepaidPointsInput.reference', [`1 to ${LIMITS.referenceLength}`]],
  ['MarkSettlementStatementPaidInput.reference', [`1 to ${LIMITS.paymentReferenceLength}`]],
  ['CreateOfferInput.title', [`1 to ${LIMITS.offerTitleLength}`]],
  ['CreateOfferInput.description', [`1 to ${shown(LIMITS.offerDescriptionLength)}`]],
  ['CreateOfferInput.tierIds', [`Up to ${LIMITS.offerTargets}`]],
  ['CreateOfferInput.segmentIds', [`Up to ${LIMITS.offerTargets}`]],
  ['CreateOfferInput.validUntil', [shown(LIMITS.dateRangeDays)]],
  ['CreateOfferInput.visibleUntil', [shown(LIMITS.dateRangeDays)]],
  ['UpdateOfferInput.title', [`1 to ${LIMITS.offerTitleLength}`]],
  ['UpdateOfferInput.description', [`1 to ${shown(LIMITS.offerDescriptionLength)}`]],
  ['UpdateOfferInput.tierIds', [`Up to ${LIMITS.offerTargets}`]],
  ['UpdateOfferInput.segmentIds', [`Up to ${LIMITS.offerTargets}`]],
  ['UpdateOfferInput.validUntil', [shown(LIMITS.dateRangeDays)]],
];

describe('the partners schema documents its limits', () => {
  it.each(documented)('%s says %j', (field, limits) => {
    const description = fields.get(field);
    expect(description, `${field} is not an input field of the schema`).toBeDefined();
    for (const limit of limits) expect(description).toContain(typeof limit === 'number' ? shown(limit) : limit);
  });

  it('says what an idempotency key looks like wherever one is asked for', () => {
    const keys = [...fields].filter(([name]) => name.endsWith('.idempotencyKey'));
    expect(keys.length).toBe(6);
    for (const [name, description] of keys) expect(description, name).toContain('8 to 100 letters, digits or . _ : -');
  });
});
