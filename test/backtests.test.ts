import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram } from './support/tier-program';

/**
 * A backtest through the gateway: the ledger replays the purchases, and the gateway brings it the
 * program's point value and tier ladder from members (@requires), as in production.
 */
let graph: TestSupergraph;

beforeAll(async () => {
  graph = await startSupergraph();
});
afterAll(() => graph?.stop());

const BACKTEST = `query($id: ID!, $input: BacktestEarningRulesInput!) { program(id: $id) { backtestEarningRules(input: $input) {
  purchases members actualPoints draftPoints pointsDifference liabilityImpact { amount currency } draftLadder
  tiers { tierId name actualThreshold draftThreshold actualMembers draftMembers } membersChangingTier
} } }`;

describe('Program.backtestEarningRules through the gateway', () => {
  it('values the difference at the program’s point value and judges tiers on members’ ladder', async () => {
    graph.clock.set(new Date('2026-03-10T12:00:00Z'));
    const p = await tierProgram(graph, 'Backtested', {});
    const [ann, bob] = [await p.enroll('ann@backtest.example'), await p.enroll('bob@backtest.example')];
    await graph.deliverEvents();
    await p.buy(ann, 120);
    await p.buy(bob, 60);
    await p.buy(bob, 30);
    await graph.deliverEvents();
    graph.clock.set(new Date('2026-03-10T13:00:00Z'));

    const input = {
      from: '2026-03-10T00:00:00Z',
      to: '2026-03-10T13:00:00Z',
      rules: { currency: 'EUR', basePoints: 2, perAmount: '1.00', rounding: 'FLOOR' },
      tierThresholds: [{ tierId: p.tiers.Silver, threshold: 250 }],
    };
    const analyst = await graph.asStaff(p.id, ['ANALYST']);
    const { program } = await analyst.data<{ program: { backtestEarningRules: Record<string, unknown> & { tiers: { tierId: string | null }[] } } }>(BACKTEST, { id: p.id, input });
    const result = program.backtestEarningRules;
    // Ann 120 and Bob 90 points actually; twice that under the draft, at 0.01 EUR a point.
    expect(result).toMatchObject({ purchases: 3, members: 2, actualPoints: '210', draftPoints: '420', pointsDifference: '210', liabilityImpact: { amount: '2.10', currency: 'EUR' }, draftLadder: true });
    // Ann is Silver on 120 actual status points; with 240 she misses the draft Silver at 250.
    const row = (id: string | null) => result.tiers.find((t) => t.tierId === id);
    expect(row(p.tiers.Silver)).toMatchObject({ name: 'Silver', actualThreshold: 100, draftThreshold: 250, actualMembers: 1, draftMembers: 0 });
    expect(row(p.tiers.Bronze)).toMatchObject({ actualMembers: 1, draftMembers: 2 });
    expect(row(p.tiers.Gold)).toMatchObject({ actualMembers: 0, draftMembers: 0 });
    expect(result.membersChangingTier).toBe(1);

    // Agents record purchases but do not backtest rules.
    const response = await p.agent.send(BACKTEST, { id: p.id, input });
    expect(errorCodes(response)).toContain('FORBIDDEN');
  });
});
