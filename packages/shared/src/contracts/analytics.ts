import { z } from 'zod';
import { defineContract, defineEvent } from '../events/contract';

const id = z.uuid();
const instant = z.iso.datetime({ offset: true });

/**
 * What the analytics subgraph tells others: which members are in which segment (so offers and
 * catalogs can target segments without reading analytics' tables) and which experiment variant a
 * member is in (so the ledger's earning and the offers apply the treatment). Every event's
 * aggregate is the member it is about.
 */
export const analyticsEvents = defineContract('analytics', {
  SegmentMembershipChanged: defineEvent({
    version: 1,
    emittedWhen: "a member entered or left a segment (membership follows the member's events as they arrive); not emitted when nothing changed",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      segmentId: id,
      member: z.boolean().describe('true: the member is in the segment from `at`; false: they left it'),
      at: instant,
    }),
  }),
  ExperimentVariantAssigned: defineEvent({
    version: 1,
    emittedWhen:
      "a running experiment assigned a member to a variant (sticky: once per member and experiment; again only if the experiment's treatment of that variant changes)",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      experimentId: id,
      variantKey: z.string().describe("the variant's key; 'control' for the control group"),
      holdout: z.boolean().describe("the member is in the program's persistent holdout: they get the control's treatment whatever the variant"),
      earnMultiplier: z
        .string()
        .nullable()
        .describe('a decimal multiplier the ledger applies to the points a purchase earns while the assignment is in force (e.g. "1.5"); null: no change'),
      offerIds: z.array(id).describe("the partners' offers this variant shows (offers targeted at the experiment are hidden from members not in a variant naming them)"),
      startsAt: instant,
      endsAt: instant.nullable().describe('when the treatment stops (the experiment stopped or reached its horizon); null: open'),
    }),
  }),
});

export type AnalyticsEvents = typeof analyticsEvents;
