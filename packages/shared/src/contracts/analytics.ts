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
});

export type AnalyticsEvents = typeof analyticsEvents;
