import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Two running experiments treating the same member: the ledger multiplies a purchase's points by
 * both multipliers (as the ledger's README and CreateExperimentInput's docstring say) and names
 * both in the explanation. Basic rules: 1 point per 1.00 EUR.
 */
let graph: TestSupergraph;
let p: TestProgram;
const members: string[] = [];
const key = () => `exp-overlap-${randomUUID()}`;

async function experiment(name: string, multiplier: string): Promise<string> {
  const { createExperiment } = await p.admin.data<{ createExperiment: { experiment: { id: string } } }>(
    `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id } userErrors { code } } }`,
    {
      input: {
        programId: p.programId,
        idempotencyKey: key(),
        name,
        hypothesis: 'More points, more spend',
        // Nearly everyone treated, so some member is treated by both.
        variants: [
          { key: 'control', weight: 1 },
          { key: 'treated', weight: 1000, earnMultiplier: multiplier },
        ],
        startsAt: '2026-12-01T00:00:00Z',
        plannedEndAt: '2026-12-29T00:00:00Z',
        primaryMetric: 'SPEND',
      },
    },
  );
  const id = createExperiment.experiment.id;
  await p.admin.data(`mutation($id: ID!) { startExperiment(input: { experimentId: $id }) { userErrors { code } } }`, { id });
  return id;
}

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-12-01T10:00:00Z'));
  p = await createTestProgram(graph, { name: 'Overlapping experiments' });
  for (let n = 0; n < 5; n++) {
    const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "overlap${n}@example.com" }] }) { member { id } } }`,
      { p: p.programId },
    );
    members.push(enrollMember.member.id);
  }
  await graph.deliverEvents();
});
afterAll(() => graph?.stop());

describe('two experiments treating one member', () => {
  it('multiply together: ×2 and ×3 earn 6 times the points, both named in the explanation', async () => {
    const first = await experiment('Double', '2');
    const second = await experiment('Triple', '3');
    await graph.deliverEvents();
    const rows = (await graph.subgraphs['analytics']!.db.query(
      `SELECT member_id AS "memberId" FROM experiment_assignments WHERE variant_key = 'treated' AND experiment_id = ANY($1::uuid[]) GROUP BY member_id HAVING count(*) = 2`,
      [[first, second]],
    )) as { memberId: string }[];
    // Each member is treated by one with probability 1000/1001: five members all missing is impossible in practice.
    const memberId = rows[0]!.memberId;
    const { recordPurchase } = await p.agent.data<{ recordPurchase: { purchase: { points: number; lines: { explanation: string[] }[] }; userErrors: unknown[] } }>(
      `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { points lines { explanation } } userErrors { code message } } }`,
      { input: { idempotencyKey: key(), memberId, source: 'web', externalId: key(), basket: { currency: 'EUR', channel: 'ONLINE', lines: [{ lineId: 'l1', quantity: 1, amount: '10.00', sku: 'SKU-1', category: 'shoes' }] } } },
    );
    expect(recordPurchase.userErrors).toEqual([]);
    expect(recordPurchase.purchase.points).toBe(60);
    const explanation = recordPurchase.purchase.lines[0]!.explanation.join(' ');
    expect(explanation).toContain(`experiment ${first} variant treated ×2`);
    expect(explanation).toContain(`experiment ${second} variant treated ×3`);
  });
});
