import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type ViewerContext } from '@loyalty-graph/shared';
import type { Consumption, EventEnvelope } from '@loyalty-graph/shared/events';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph } from '@loyalty-graph/testing';
import { partnersSubgraph } from '../src/server';
import { SettlementFacts } from '../src/services/settlement-facts';

/**
 * Settlement's event handlers against real PostgreSQL, with events as the ledger and the catalog
 * write them: one item per fact however often it is delivered (also at once), only partner facts,
 * and reversals of partner redemptions pro rata by quantity. (The catalog does not cancel partner
 * services today, so no end-to-end flow produces a reversal; the handler is held to its rule here.)
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let consumptions: Consumption[];

const PROGRAM = randomUUID();
const PARTNER = randomUUID();
const AT = '2026-06-03T10:00:00.000Z';

function envelope(producer: string, type: string, payload: Record<string, unknown>, id = randomUUID()): EventEnvelope {
  return { id, producer, position: 1, aggregateType: 'Member', aggregateId: randomUUID(), aggregateVersion: 1, type, version: 1, payload, occurredAt: AT };
}

async function apply(event: EventEnvelope): Promise<void> {
  const handler = consumptions.find((c) => c.contract.producer === event.producer)!.handlers[event.type]!;
  await sub.db.transaction((tx) => handler(tx, event));
}

const items = async (where = 'TRUE', params: unknown[] = []) =>
  (await sub.db.query(`SELECT kind, points, partner_id AS "partnerId", hold_id AS "holdId", order_line_id AS "lineId", occurred_at AS "occurredAt" FROM settlement_items WHERE ${where} ORDER BY kind, points`, params)) as {
    kind: string;
    points: number;
    partnerId: string;
    holdId: string | null;
    lineId: string | null;
    occurredAt: Date;
  }[];

const accrued = (over: Record<string, unknown> = {}) => ({
  programId: PROGRAM,
  memberId: randomUUID(),
  purchaseId: randomUUID(),
  points: 120,
  statusPoints: 120,
  pending: true,
  occurredAt: '2026-05-30T09:00:00.000Z',
  partnerId: PARTNER,
  entryId: randomUUID(),
  ...over,
});

beforeAll(async () => {
  sub = await startTestSubgraph(partnersSubgraph as unknown as SubgraphModule<ViewerContext>);
  consumptions = new SettlementFacts(new ManualClock()).consumptions();
});
afterAll(() => sub?.stop());

describe('settlement facts from events', () => {
  it('store a partner-funded accrual once, at the purchase time, whether delivered again or twice at once', async () => {
    const event = envelope('ledger', 'PointsAccrued', accrued());
    await Promise.all([apply(event), apply(event), apply({ ...event, id: randomUUID() })]);
    await apply(event);
    expect(await items(`ledger_entry_id = $1`, [event.payload['entryId']])).toEqual([{ kind: 'ISSUED', points: 120, partnerId: PARTNER, holdId: null, lineId: null, occurredAt: new Date('2026-05-30T09:00:00Z') }]);
  });

  it('ignore what the program funds and accruals without reward points', async () => {
    const programFunded = envelope('ledger', 'PointsAccrued', accrued({ partnerId: null }));
    const statusOnly = envelope('ledger', 'PointsAccrued', accrued({ points: 0 }));
    const before = (await items()).length;
    await apply(programFunded);
    await apply(statusOnly);
    expect(await items()).toHaveLength(before);
  });

  it('skip facts naming a partner of another program', async () => {
    const [partner] = (await sub.db.query(`INSERT INTO partners (program_id, name, category, status, created_at, updated_at) VALUES ($1, 'Elsewhere', 'OTHER', 'ACTIVE', now(), now()) RETURNING id`, [randomUUID()])) as { id: string }[];
    const event = envelope('ledger', 'PointsAccrued', accrued({ partnerId: partner!.id }));
    await apply(event);
    expect(await items(`partner_id = $1`, [partner!.id])).toEqual([]);
  });

  it('store a return as negative points at the time it happened', async () => {
    const entryId = randomUUID();
    const payload = { programId: PROGRAM, memberId: randomUUID(), purchaseId: randomUUID(), points: 30, statusPoints: 30, fromPending: 30, fromPosted: 0, writtenOff: 0, statusFromPending: 30, statusFromPosted: 0, clawbackPolicy: 'NEGATIVE_BALANCE', partnerId: PARTNER, entryId };
    await apply(envelope('ledger', 'PointsReturned', payload));
    expect(await items(`ledger_entry_id = $1`, [entryId])).toEqual([expect.objectContaining({ kind: 'RETURNED', points: -30, occurredAt: new Date(AT) })]);
  });

  it('reverse cancelled units of a partner redemption pro rata, once per event, and ignore other lines', async () => {
    const orderId = randomUUID();
    const holdId = randomUUID();
    const partnerLine = randomUUID();
    const otherLine = randomUUID();
    const redeemed = (lineId: string, partnerId: string | null, quantity: number, points: number) =>
      envelope('catalog', 'RewardRedeemed', {
        programId: PROGRAM,
        orderId,
        memberId: randomUUID(),
        lineId,
        rewardId: randomUUID(),
        rewardType: partnerId ? 'PARTNER_SERVICE' : 'PHYSICAL',
        quantity,
        points,
        cash: null,
        partnerId,
        holdId,
        redeemedAt: AT,
      });
    await apply(redeemed(partnerLine, PARTNER, 4, 400));
    await apply(redeemed(otherLine, null, 1, 90));
    // Every line of the hold is remembered (the hold check needs them all); only the partner's is an item.
    expect(await sub.db.query(`SELECT sum(points)::int AS points FROM settlement_redeemed_lines WHERE hold_id = $1`, [holdId])).toEqual([{ points: 490 }]);
    const cancelled = envelope('catalog', 'RewardOrderCancelled', {
      programId: PROGRAM,
      orderId,
      memberId: randomUUID(),
      lines: [
        { lineId: partnerLine, rewardId: randomUUID(), quantity: 3 },
        { lineId: otherLine, rewardId: randomUUID(), quantity: 1 },
      ],
      pointsRefunded: 390,
      cashRefunded: null,
      paymentReference: null,
      returned: false,
      reason: null,
      at: '2026-06-04T00:00:00.000Z',
    });
    await apply(cancelled);
    await apply(cancelled);
    expect(await items(`hold_id = $1`, [holdId])).toEqual([
      { kind: 'REDEEMED', points: 400, partnerId: PARTNER, holdId, lineId: partnerLine, occurredAt: new Date(AT) },
      { kind: 'REDEMPTION_REVERSED', points: -300, partnerId: PARTNER, holdId, lineId: partnerLine, occurredAt: new Date('2026-06-04T00:00:00Z') },
    ]);
  });
});
