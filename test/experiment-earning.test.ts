import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * An experiment's treatment end to end: analytics assigns members (holdout in control) and tells
 * the ledger with ExperimentVariantAssigned; the ledger's earning multiplies a treated member's
 * points for purchases made in [startsAt, endsAt), and nobody else's. Basic rules: 1 point per 1.00 EUR.
 */
let graph: TestSupergraph;
let p: TestProgram;
let analyst: Caller;
const members: string[] = [];
const key = () => `exp-earning-${randomUUID()}`;

const PURCHASE = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { points lines { explanation } } userErrors { code message } } }`;

async function buy(memberId: string, amount: string, occurredAt?: string): Promise<{ points: number; explanation: string[] }> {
  const { recordPurchase } = await p.agent.data<{ recordPurchase: { purchase: { points: number; lines: { explanation: string[] }[] }; userErrors: unknown[] } }>(PURCHASE, {
    input: {
      idempotencyKey: key(),
      memberId,
      source: 'web',
      externalId: key(),
      ...(occurredAt ? { occurredAt } : {}),
      basket: { currency: 'EUR', channel: 'ONLINE', lines: [{ lineId: 'l1', quantity: 1, amount, sku: 'SKU-1', category: 'shoes' }] },
    },
  });
  expect(recordPurchase.userErrors).toEqual([]);
  return { points: recordPurchase.purchase.points, explanation: recordPurchase.purchase.lines[0]!.explanation };
}

let experimentId: string;
let treated: string;
let control: string;
let held: string;

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-12-01T10:00:00Z'));
  p = await createTestProgram(graph, { name: 'Experiment program' });
  analyst = await graph.asStaff(p.programId, ['ANALYST']);
  for (let n = 0; n < 60; n++) {
    const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "experiment${n}@example.com" }] }) { member { id } } }`,
      { p: p.programId },
    );
    members.push(enrollMember.member.id);
  }
  await graph.deliverEvents();
  const { configureHoldout } = await p.admin.data<{ configureHoldout: { userErrors: unknown[] } }>(
    `mutation($input: ConfigureHoldoutInput!) { configureHoldout(input: $input) { holdout { share } userErrors { code } } }`,
    { input: { programId: p.programId, share: '20', idempotencyKey: key() } },
  );
  expect(configureHoldout.userErrors).toEqual([]);
  const { createExperiment } = await p.admin.data<{ createExperiment: { experiment: { id: string } } }>(
    `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id } userErrors { code field message } } }`,
    {
      input: {
        programId: p.programId,
        idempotencyKey: key(),
        name: 'Points ×1.5',
        hypothesis: 'Members earning 1.5 times the points spend more',
        variants: [
          { key: 'control', weight: 1 },
          { key: 'boost', weight: 1, earnMultiplier: '1.5' },
        ],
        startsAt: '2026-12-01T00:00:00Z',
        plannedEndAt: '2026-12-29T00:00:00Z',
        primaryMetric: 'SPEND',
      },
    },
  );
  experimentId = createExperiment.experiment.id;
  const { startExperiment } = await p.admin.data<{ startExperiment: { experiment: { status: string; assignedMembers: number } } }>(
    `mutation($id: ID!) { startExperiment(input: { experimentId: $id }) { experiment { status assignedMembers } userErrors { code } } }`,
    { id: experimentId },
  );
  expect(startExperiment.experiment).toEqual({ status: 'RUNNING', assignedMembers: 60 });
  await graph.deliverEvents();
  // Who got what, as analytics stored it (the events the ledger consumed say the same).
  const rows = (await graph.subgraphs['analytics']!.db.query(`SELECT member_id AS "memberId", variant_key AS "variantKey", holdout FROM experiment_assignments WHERE experiment_id = $1`, [experimentId])) as {
    memberId: string;
    variantKey: string;
    holdout: boolean;
  }[];
  treated = rows.find((r) => r.variantKey === 'boost' && !r.holdout)!.memberId;
  control = rows.find((r) => r.variantKey === 'control' && !r.holdout)!.memberId;
  // 20 % of 60: the chance that nobody is held out is 0.8⁶⁰ ≈ 1.5e-6.
  held = rows.find((r) => r.holdout)!.memberId;
});
afterAll(() => graph?.stop());

describe('an earn multiplier experiment', () => {
  it('gives a treated member 1.5 × the points and says which experiment and variant applied', async () => {
    const bought = await buy(treated, '20.00');
    expect(bought.points).toBe(30);
    expect(bought.explanation).toContain(`experiment ${experimentId} variant boost ×1.5`);
  });

  it('gives control and holdout members the normal points', async () => {
    expect((await buy(control, '20.00')).points).toBe(20);
    const holdout = await buy(held, '20.00');
    expect(holdout.points).toBe(20);
    expect(holdout.explanation.join(' ')).not.toMatch(/experiment/);
  });

  it('applies the same in a bulk call: each line by its own member’s assignment', async () => {
    const line = (memberId: string) => ({ transactionId: key(), memberId, basket: { currency: 'EUR', channel: 'ONLINE', lines: [{ lineId: 'l1', quantity: 1, amount: '10.00', sku: 'SKU-1', category: 'shoes' }] } });
    const { recordPurchases } = await p.agent.data<{ recordPurchases: { recorded: number; lines: { purchase: { points: number } }[] } }>(
      `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded lines { purchase { points } } } }`,
      { input: { source: 'bulk', lines: [line(treated), line(control), line(held), line(treated)] } },
    );
    expect(recordPurchases.recorded).toBe(4);
    expect(recordPurchases.lines.map((l) => l.purchase.points)).toEqual([15, 10, 10, 15]);
  });

  it('shows in the readout: the arms’ purchases per member, the holdout member left out', async () => {
    await graph.deliverEvents();
    // The window ends at now (exclusive): read a minute after the purchases.
    graph.clock.set(new Date('2026-12-01T10:01:00Z'));
    const { experiment } = await analyst.data<{ experiment: { readout: { holdoutMembers: number; variants: { key: string; members: number; purchasesPerMember: number }[] } } }>(
      `query($id: ID!) { experiment(id: $id) { readout { holdoutMembers variants { key members purchasesPerMember } } } }`,
      { id: experimentId },
    );
    const [c, b] = experiment.readout.variants;
    expect(c!.members + b!.members + experiment.readout.holdoutMembers).toBe(60);
    // control: one single and one bulk purchase of one member; boost: one single and two bulk of another.
    expect(c!.purchasesPerMember).toBeCloseTo(2 / c!.members, 9);
    expect(b!.purchasesPerMember).toBeCloseTo(3 / b!.members, 9);
  });

  it('after endsAt earns the normal points again, while a late-recorded purchase from inside the window keeps the treatment', async () => {
    graph.clock.set(new Date('2026-12-10T10:00:00Z'));
    const { stopExperiment } = await p.admin.data<{ stopExperiment: { experiment: { endsAt: string } } }>(
      `mutation($id: ID!) { stopExperiment(input: { experimentId: $id }) { experiment { endsAt } userErrors { code } } }`,
      { id: experimentId },
    );
    expect(stopExperiment.experiment.endsAt).toBe('2026-12-10T10:00:00.000Z');
    await graph.deliverEvents();
    graph.clock.set(new Date('2026-12-10T12:00:00Z'));
    expect((await buy(treated, '20.00')).points).toBe(20);
    expect((await buy(treated, '20.00', '2026-12-05T12:00:00Z')).points).toBe(30);
    expect((await buy(control, '20.00')).points).toBe(20);
  });
});
