import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram } from './support/tier-program';

/**
 * What platform operators see of event delivery and jobs, and how they deal with an event a
 * consumer could not apply: through the gateway, against the real subgraphs.
 */
let graph: TestSupergraph;
let operator: Caller;

beforeAll(async () => {
  graph = await startSupergraph();
  operator = await graph.asOperator();
  graph.clock.set(new Date('2026-06-10T12:00:00Z'));
});
afterAll(() => graph?.stop());

const OPERATIONS = `query {
  membersOperations {
    subgraph jobs { name everySeconds lastOutcome }
    outbox { head unsequenced }
    consumers { name producer position head lag deadLetters parked lastError }
    deadLetters { id consumer eventType aggregateId state attempts error payload }
  }
  ledgerOperations { subgraph outbox { head } consumers { name producer lag deadLetters } }
}`;

type Operations = {
  membersOperations: {
    jobs: { name: string }[];
    outbox: { head: string; unsequenced: number };
    consumers: { name: string; producer: string; position: string; head: string; lag: string; deadLetters: number; parked: number; lastError: string | null }[];
    deadLetters: { id: string; eventType: string; aggregateId: string; state: string; attempts: number; error: string; payload: string }[];
  };
  ledgerOperations: { outbox: { head: string }; consumers: { name: string; producer: string; lag: string }[] };
};

describe('event delivery for operators', () => {
  it('shows positions, lag and jobs, dead-letters a poisoned event without holding up others, and lets an operator discard it', async () => {
    const p = await tierProgram(graph, 'Operations', {});
    const victim = await p.enroll('victim@example.com');
    const bystander = await p.enroll('bystander@example.com');

    const before = await operator.data<Operations>(OPERATIONS);
    expect(before.membersOperations.jobs.map((j) => j.name)).toEqual(['close-tier-periods', 'prune-processed-events']);
    expect(before.membersOperations.consumers).toMatchObject([{ name: 'members.ledger-events', producer: 'ledger' }]);
    expect(before.ledgerOperations.consumers).toMatchObject([
      // Experiment assignments (the earn multiplier of a member's variant).
      { name: 'ledger.analytics-events', producer: 'analytics' },
      { name: 'ledger.members-events', producer: 'members' },
      { name: 'ledger.partners-events', producer: 'partners' },
    ]);

    // A malformed event from the ledger (its date cannot be read), as a bug in a producer would write it.
    await graph.subgraphs['ledger']!.db.query(
      `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, event_version, payload, created_at)
       VALUES ('Member', $1, 'PointsAccrued', 1, $2, now())`,
      [victim, JSON.stringify({ programId: p.id, memberId: victim, purchaseId: '00000000-0000-4000-8000-000000000001', points: 1, statusPoints: 1, pending: false, occurredAt: 'yesterday' })],
    );
    await p.buy(victim, 600); // behind the poisoned event: must wait for it
    await p.buy(bystander, 600); // another member: must not wait
    await graph.deliverEvents();

    expect((await p.member(bystander)).tier?.name).toBe('Gold');
    expect((await p.member(victim)).tier?.name).toBe('Bronze');
    const stuck = await operator.data<Operations>(OPERATIONS);
    const consumer = stuck.membersOperations.consumers[0]!;
    expect(consumer).toMatchObject({ deadLetters: 1, parked: 1, lag: '0' });
    expect(consumer.position).toBe(consumer.head);
    expect(stuck.membersOperations.deadLetters.map((d) => [d.eventType, d.aggregateId, d.state])).toEqual([
      ['PointsAccrued', victim, 'FAILED'],
      ['PointsAccrued', victim, 'PARKED'],
    ]);
    const [poisoned] = stuck.membersOperations.deadLetters;
    expect(poisoned!.attempts).toBe(5);
    expect(JSON.parse(poisoned!.payload)).toMatchObject({ occurredAt: 'yesterday' });

    // Replayed as it is, it fails again and stays.
    const REPLAY = `mutation($input: ReplayDeadLetterInput!) { replayMembersDeadLetter(input: $input) { replayed failed { id state attempts } userErrors { code field } } }`;
    const retried = await operator.data<{ replayMembersDeadLetter: { replayed: number; failed: { id: string; state: string; attempts: number } | null } }>(REPLAY, { input: { id: poisoned!.id } });
    expect(retried.replayMembersDeadLetter).toMatchObject({ replayed: 0, failed: { id: poisoned!.id, state: 'FAILED', attempts: 6 } });

    // Discarded, it never applies; the purchase parked behind it does, once.
    const discarded = await operator.data<{ replayMembersDeadLetter: { replayed: number; failed: unknown } }>(REPLAY, { input: { id: poisoned!.id, discard: true } });
    expect(discarded.replayMembersDeadLetter).toMatchObject({ replayed: 1, failed: null });
    const healed = await p.member(victim);
    expect(healed.tier?.name).toBe('Gold');
    expect(healed.tierProgress.statusPoints).toBe(600);
    const after = await operator.data<Operations>(OPERATIONS);
    expect(after.membersOperations.consumers[0]).toMatchObject({ deadLetters: 0, parked: 0 });
    expect(after.membersOperations.deadLetters).toEqual([]);

    const again = await operator.data<{ replayMembersDeadLetter: { userErrors: { code: string }[] } }>(REPLAY, { input: { id: poisoned!.id } });
    expect(again.replayMembersDeadLetter.userErrors).toEqual([{ code: 'DEAD_LETTER_CLOSED', field: 'id' }]);
  });

  it('is for platform operators only', async () => {
    const p = await tierProgram(graph, 'Operations access', {});
    for (const caller of [p.admin, p.agent]) {
      const response = await caller.send(`query { membersOperations { subgraph } }`);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
    const replay = await p.admin.send(`mutation { replayLedgerDeadLetter(input: { id: "00000000-0000-4000-8000-000000000000" }) { replayed } }`);
    expect(replay.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
