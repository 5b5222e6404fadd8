import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type startTestSubgraph } from '@loyalty-graph/testing';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * `point_facts.recorded_at`: when analytics wrote a fact, beside when the movement happened. The
 * ingestion lag (`pnpm bench analytics`, and an operator after an incident) is read from it, so it
 * must be analytics' write time, not the event's time nor a batch's start.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000b1';
const member = randomUUID();

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};
const dbNow = async () => ((await sub.db.query(`SELECT clock_timestamp() AS now`)) as { now: Date }[])[0]!.now.getTime();
const facts = async () =>
  (await sub.db.query(`SELECT purchase_id AS "purchaseId", occurred_at AS "occurredAt", recorded_at AS "recordedAt" FROM point_facts WHERE program_id = $1 ORDER BY occurred_at`, [PROGRAM])) as {
    purchaseId: string;
    occurredAt: Date;
    recordedAt: Date | null;
  }[];

function accrue(points: number, when: string) {
  const purchaseId = randomUUID();
  feeds.ledger.add(
    'PointsAccrued',
    member,
    { programId: PROGRAM, memberId: member, purchaseId, points, statusPoints: points, pending: true, occurredAt: when, partnerId: null, amount: `${points}.00`, currency: 'EUR', channel: 'STORE', entryId: randomUUID() },
    new Date(when),
  );
}

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops)).sub;
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('a point fact', () => {
  it('records when analytics wrote it, apart from when the purchase happened', async () => {
    // Purchases from last year, delivered now: recorded_at is the delivery, occurred_at the purchase.
    accrue(10, '2025-03-01T10:00:00Z');
    accrue(20, '2025-03-02T10:00:00Z');
    const before = await dbNow();
    await drain();
    const after = await dbNow();
    const rows = await facts();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.recordedAt).not.toBeNull();
      expect(row.recordedAt!.getTime()).toBeGreaterThanOrEqual(before);
      expect(row.recordedAt!.getTime()).toBeLessThanOrEqual(after);
    }
    expect(rows.map((r) => r.occurredAt.toISOString())).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-02T10:00:00.000Z']);
  });

  it('gets a new recorded_at when a rebuild writes it again, with the same identity and instant', async () => {
    const first = await facts();
    await sub.db.query(`TRUNCATE point_facts, member_facts, member_state`);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    const rebuiltFrom = await dbNow();
    await drain();
    const again = await facts();
    expect(again.map((r) => [r.purchaseId, r.occurredAt.toISOString()])).toEqual(first.map((r) => [r.purchaseId, r.occurredAt.toISOString()]));
    for (const row of again) expect(row.recordedAt!.getTime()).toBeGreaterThanOrEqual(rebuiltFrom);
  });
});
