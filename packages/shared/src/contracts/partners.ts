import { z } from 'zod';
import { defineContract, defineEvent } from '../events/contract';

const id = z.uuid();
const instant = z.iso.datetime({ offset: true });
const points = z.number().int();

/**
 * An event about one partner's own facts (its funding terms, its settlement). The aggregate is the
 * partner, so a consumer sees one partner's terms and statements in the order they happened.
 */
function partnerEvent<TShape extends z.ZodRawShape>(emittedWhen: string, shape: TShape) {
  return defineEvent({
    version: 1,
    emittedWhen,
    aggregateType: 'Partner',
    aggregateId: (p) => (p as { partnerId: string }).partnerId,
    payload: z.object({ programId: id, partnerId: id, ...shape }),
  });
}

/**
 * What the partners subgraph tells others: the funding terms the ledger enforces when a partner
 * funds an accrual (prepaid blocks, credit limits, points paid for through settlement), and closed
 * settlement statements.
 */
export const partnersEvents = defineContract(
  'partners',
  {
    PartnerFundingTermsChanged: partnerEvent(
      'an agreement version was published: from effectiveFrom on, the partner funds issuance from a prepaid block, up to a credit limit, or without a limit (both null)',
      {
        agreementId: id,
        version: z.number().int(),
        effectiveFrom: instant,
        prepaidPoints: points.nullable().describe('the block of points bought with this version, added to the prepaid balance when it takes effect; null: not prepaid'),
        creditLimitPoints: points.nullable().describe('points issued and not yet paid for (see PartnerPointsSettled) the partner may owe; null: no credit limit'),
      },
    ),
    PartnerPrepaidPointsAdded: partnerEvent('an operator or admin added a further prepaid block of points for a partner', {
      points: points.describe('positive'),
      reference: z.string().describe('what the block was bought with (an invoice), unique per partner'),
      addedAt: instant,
    }),
    PartnerPointsSettled: partnerEvent("a settlement statement was marked paid: its net issued points no longer count against the partner's credit limit", {
      statementId: id,
      points: points.describe('net points issued at the partner that the paid statement covers (issued − returned, adjustments included)'),
      settledAt: instant,
    }),
    SettlementStatementClosed: partnerEvent("a partner's settlement period closed into an immutable statement", {
      statementId: id,
      periodStart: instant,
      periodEnd: instant,
      currency: z.string().length(3),
      netAmount: z.string().describe('a decimal string: positive when the partner owes the operator, negative when the operator owes the partner'),
      closedAt: instant,
    }),
  },
  "Aggregates are partners. The ledger applies the funding events to stop a partner's issuance when its prepaid block or credit limit is exhausted.",
);

export type PartnersEvents = typeof partnersEvents;
