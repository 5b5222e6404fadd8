import { inputFieldDescriptions } from '@loyalty-graph/testing/schema-docs';
import { describe, expect, it } from 'vitest';
import { BACKTEST_MAX_DAYS } from './backtest';
import { LIMITS } from './limits';

/**
 * Every limit a caller can hit is written in the schema next to the field it limits: change a
 * bound in LIMITS without changing the docs and this fails.
 */
const shown = (n: number) => n.toLocaleString('en-US');
const fields = inputFieldDescriptions(new URL('../../schema.graphql', import.meta.url));

const documented: [string, (string | number)[]][] = [
  ['BasketInput.lines', [LIMITS.basketLines]],
  ['BasketLineInput.lineId', [LIMITS.codeLength]],
  ['BasketLineInput.sku', [LIMITS.codeLength]],
  ['BasketLineInput.category', [LIMITS.codeLength]],
  ['BasketLineInput.quantity', [LIMITS.lineQuantity]],
  ['BasketLineInput.amount', [LIMITS.lineAmount, "currency's decimals"]],
  ['RecordPurchaseInput.source', [LIMITS.sourceLength]],
  ['RecordPurchaseInput.externalId', [LIMITS.externalIdLength]],
  ['RecordPurchasesInput.lines', [LIMITS.bulkPurchaseLines]],
  ['RecordPurchasesInput.source', [LIMITS.sourceLength]],
  ['RecordPurchaseLineInput.transactionId', [LIMITS.externalIdLength]],
  ['AddPurchaseImportChunkInput.chunkNo', [LIMITS.importChunks, 'CONFLICT']],
  ['AddPurchaseImportChunkInput.lines', [LIMITS.importChunkLines]],
  ['CreatePurchaseImportInput.source', [LIMITS.sourceLength]],
  ['MemberIdentifierInput.value', [LIMITS.identifierLength]],
  ['RecordPurchaseInput.occurredAt', [`${LIMITS.purchaseFutureSkewMs / 60_000} minutes`, LIMITS.purchaseMaxAgeDaysCeiling, 'PURCHASE_TOO_OLD']],
  ['QuotePurchaseInput.occurredAt', [LIMITS.ruleDateRangeDays]],
  ['HoldPointsInput.points', [LIMITS.holdPoints]],
  ['HoldPointsInput.reference', [LIMITS.holdReferenceLength]],
  ['RefundCapturedPointsInput.points', [LIMITS.holdPoints, 'REFUND_EXCEEDS_CAPTURE']],
  ['RefundCapturedPointsInput.reason', [LIMITS.refundReasonLength]],
  ['AdjustPointsInput.points', [`-${shown(LIMITS.adjustmentPoints)} to ${shown(LIMITS.adjustmentPoints)}`, 'not 0']],
  ['AdjustPointsInput.comment', [LIMITS.commentLength]],
  ['TransferPointsInput.points', [LIMITS.transferPoints]],
  ['TransferPointsInput.message', [LIMITS.transferMessageLength]],
  ['DonatePointsInput.points', [LIMITS.transferPoints]],
  ['ReinstateExpiredPointsInput.comment', [LIMITS.commentLength]],
  ['RecordReturnInput.lines', [LIMITS.basketLines]],
  ['RecordReturnInput.reason', [LIMITS.commentLength]],
  ['CreateCharityInput.name', [LIMITS.charityNameLength]],
  ['EarningMultiplierInput.value', [LIMITS.codeLength]],
  ['EarningCampaignInput.name', [LIMITS.campaignNameLength]],
  ['EarningCampaignInput.startsAt', [LIMITS.ruleDateRangeDays]],
  ['EarningCampaignInput.endsAt', [LIMITS.ruleDateRangeDays]],
  ['EarningCampaignInput.categories', [LIMITS.campaignFilters, LIMITS.codeLength]],
  ['EarningCampaignInput.channels', [LIMITS.campaignFilters, LIMITS.codeLength]],
  ['EarningCapInput.maxPoints', [LIMITS.purchasePoints]],
  ['PublishEarningRulesInput.effectiveFrom', [LIMITS.ruleDateRangeDays]],
  ['PublishEarningRulesInput.basePoints', [LIMITS.basePoints]],
  ['PublishEarningRulesInput.perAmount', [LIMITS.lineAmount]],
  ['PublishEarningRulesInput.minimumSpend', [LIMITS.lineAmount]],
  ['PublishEarningRulesInput.multipliers', [LIMITS.multipliers]],
  ['PublishEarningRulesInput.campaigns', [LIMITS.campaigns]],
  ['ConfigureLedgerInput.purchaseMaxAgeDays', [LIMITS.purchaseMaxAgeDaysCeiling]],
  ['DraftEarningRulesInput.basePoints', [LIMITS.basePoints]],
  ['DraftEarningRulesInput.perAmount', [LIMITS.lineAmount]],
  ['DraftEarningRulesInput.minimumSpend', [LIMITS.lineAmount]],
  ['DraftEarningRulesInput.multipliers', [LIMITS.multipliers]],
  ['DraftEarningRulesInput.campaigns', [LIMITS.campaigns, LIMITS.ruleDateRangeDays]],
  ['BacktestEarningRulesInput.to', [BACKTEST_MAX_DAYS]],
  ['TierThresholdInput.threshold', [LIMITS.purchasePoints]],
];

describe('the ledger schema documents its limits', () => {
  it.each(documented)('%s says %j', (field, limits) => {
    const description = fields.get(field);
    expect(description, `${field} is not an input field of the schema`).toBeDefined();
    for (const limit of limits) expect(description).toContain(typeof limit === 'number' ? shown(limit) : limit);
  });

  it('says what an idempotency key looks like wherever one is asked for', () => {
    const keys = [...fields].filter(([name]) => name.endsWith('.idempotencyKey'));
    expect(keys.length).toBeGreaterThanOrEqual(8);
    for (const [name, description] of keys) expect(description, name).toContain('8 to 100 letters, digits or . _ : -');
  });
});
