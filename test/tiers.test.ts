import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { ProgramSettingsService } from '../subgraphs/members/src/services/program-settings';
import { ReferralService } from '../subgraphs/members/src/services/referrals';
import { TierService } from '../subgraphs/members/src/services/tiers';
import { tierProgram } from './support/tier-program';

/**
 * Tiers that move by themselves, through the gateway: the ledger's events reach members
 * (delivered by hand here, as the relay would), the period-end job runs after the clock moves.
 */
let graph: TestSupergraph;

beforeAll(async () => {
  graph = await startSupergraph();
});
afterAll(() => graph?.stop());

const at = (iso: string) => graph.clock.set(new Date(iso));
const closePeriods = async () => (await graph.subgraphs['members']!.runJobs())['close-tier-periods'];

describe('automatic tiers', () => {
  it('move a member up at once when the period’s status points reach a threshold, and count each purchase once', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Up at once', {});
    const member = await p.enroll('up@example.com');
    expect((await p.member(member)).tier?.name).toBe('Bronze');

    await p.buy(member, 120);
    await graph.deliverEvents();
    const silver = await p.member(member);
    expect(silver.tier?.name).toBe('Silver');
    expect(silver.tierProgress).toMatchObject({
      tier: { name: 'Silver' },
      statusPoints: 120,
      pointsToKeep: 0,
      nextTier: { name: 'Gold' },
      pointsToNextTier: 380,
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: '2027-01-01T00:00:00.000Z',
      downgradeDueAt: null,
    });
    expect(silver.tierHistory[0]).toMatchObject({ fromTier: { name: 'Bronze' }, toTier: { name: 'Silver' }, source: 'AUTOMATIC', reasonCode: 'QUALIFIED' });

    // Straight past Silver to Gold in one purchase.
    await p.buy(member, 400);
    await graph.deliverEvents();
    const gold = await p.member(member);
    expect(gold.tier?.name).toBe('Gold');
    expect(gold.tierProgress).toMatchObject({ statusPoints: 520, nextTier: null, pointsToNextTier: null });
    expect(gold.tierHistory).toHaveLength(2);

    // Every ledger event delivered again (a replay from the start): no point counted twice.
    const consumer = graph.subgraphs['members']!.consumers[0]!;
    await consumer.rewind(0);
    expect(await graph.deliverEvents()).toBeGreaterThan(0);
    const again = await p.member(member);
    expect(again.tierProgress.statusPoints).toBe(520);
    expect(again.tierHistory).toHaveLength(2);

    // Each change was announced for other subgraphs and partners.
    const events = (await graph.subgraphs['members']!.db.query(`SELECT event_type, payload FROM outbox WHERE aggregate_id = $1 AND event_type = 'TierChanged' ORDER BY aggregate_version`, [member])) as {
      payload: { toTierId: string; direction: string; reason: string };
    }[];
    expect(events.map((e) => [e.payload.toTierId, e.payload.direction, e.payload.reason])).toEqual([
      [p.tiers.Silver, 'UP', 'QUALIFIED'],
      [p.tiers.Gold, 'UP', 'QUALIFIED'],
    ]);
  });

  it('move members down at the period end: to what their points support, or one tier at a time', async () => {
    at('2026-03-10T12:00:00Z');
    const supported = await tierProgram(graph, 'Down to qualified', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z', downgrade: 'TO_QUALIFIED' });
    const stepwise = await tierProgram(graph, 'Down one tier', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z', downgrade: 'ONE_TIER' });
    const keeper = await supported.enroll('keeper@example.com');
    const slider = await supported.enroll('slider@example.com');
    const stepper = await stepwise.enroll('stepper@example.com');
    for (const [p, m] of [[supported, keeper], [supported, slider], [stepwise, stepper]] as const) await p.buy(m, 520);
    await graph.deliverEvents();

    at('2026-04-01T00:00:05Z');
    await closePeriods();
    // March's 520 points keep Gold through April.
    for (const [p, m] of [[supported, keeper], [supported, slider], [stepwise, stepper]] as const) expect((await p.member(m)).tier?.name).toBe('Gold');

    at('2026-04-15T12:00:00Z');
    await supported.buy(keeper, 510);
    await supported.buy(slider, 150);
    await graph.deliverEvents();

    at('2026-05-01T00:00:05Z');
    await closePeriods();
    expect((await supported.member(keeper)).tier?.name).toBe('Gold');
    const slid = await supported.member(slider);
    expect(slid.tier?.name).toBe('Silver');
    expect(slid.tierHistory[0]).toMatchObject({ fromTier: { name: 'Gold' }, toTier: { name: 'Silver' }, source: 'AUTOMATIC', reasonCode: 'PERIOD_END' });
    // No points in April: one tier down, not straight to Bronze.
    expect((await stepwise.member(stepper)).tier?.name).toBe('Silver');

    // A second run for the same period end changes nothing.
    await closePeriods();
    expect((await supported.member(slider)).tierHistory).toHaveLength(2);

    at('2026-06-01T00:00:05Z');
    await closePeriods();
    expect((await stepwise.member(stepper)).tier?.name).toBe('Bronze');
    expect((await supported.member(slider)).tier?.name).toBe('Bronze');
  });

  it('give a grace period after the period end: earning the tier back cancels the downgrade, otherwise it applies when the grace ends', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Grace', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z', graceDays: 10 });
    const saver = await p.enroll('saver@example.com');
    const lapser = await p.enroll('lapser@example.com');
    await p.buy(saver, 520);
    await p.buy(lapser, 520);
    await graph.deliverEvents();

    at('2026-05-01T00:00:05Z'); // April had no points
    await closePeriods();
    for (const m of [saver, lapser]) {
      const view = await p.member(m);
      expect(view.tier?.name).toBe('Gold');
      expect(view.tierProgress.downgradeDueAt).toBe('2026-05-11T00:00:00.000Z');
    }

    at('2026-05-05T12:00:00Z');
    await p.buy(saver, 500);
    await graph.deliverEvents();
    expect((await p.member(saver)).tierProgress).toMatchObject({ tier: { name: 'Gold' }, downgradeDueAt: null });

    at('2026-05-11T00:00:05Z');
    await closePeriods();
    expect((await p.member(saver)).tier?.name).toBe('Gold');
    const lapsed = await p.member(lapser);
    expect(lapsed.tier?.name).toBe('Bronze');
    expect(lapsed.tierHistory[0]).toMatchObject({ toTier: { name: 'Bronze' }, reasonCode: 'GRACE_ENDED' });
    expect(lapsed.tierProgress.downgradeDueAt).toBeNull();
  });

  it('treat an agent’s manual tier as a floor: upgrades still happen, downgrades stop at it', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Floor', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z', manualMode: 'FLOOR' });
    const member = await p.enroll('floor@example.com');
    const assigned = await p.agent.data<{ assignMemberTier: { userErrors: unknown[] } }>(
      `mutation($m: ID!, $t: ID!) { assignMemberTier(input: { memberId: $m, tierId: $t, reason: "Complaint goodwill" }) { member { id } userErrors { code } } }`,
      { m: member, t: p.tiers.Silver },
    );
    expect(assigned.assignMemberTier.userErrors).toEqual([]);
    expect((await p.member(member)).manualTier).toEqual({ tier: { name: 'Silver' }, until: null });

    await p.buy(member, 600);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Gold');

    at('2026-05-01T00:00:05Z'); // April without points: TO_QUALIFIED would mean Bronze
    await closePeriods();
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Silver');
    expect(view.tierHistory.map((c) => c.reasonCode)).toEqual(['PERIOD_END', 'QUALIFIED', 'MANUAL']);
    expect(view.tierHistory[2]).toMatchObject({ source: 'MANUAL', reason: 'Complaint goodwill' });
  });

  it('treat an agent’s manual tier as an override while it lasts: no automatic change until it ends', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Override', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z', manualMode: 'OVERRIDE' });
    const member = await p.enroll('override@example.com');
    await p.agent.data(`mutation($m: ID!, $t: ID!) { assignMemberTier(input: { memberId: $m, tierId: $t, reason: "VIP guest", until: "2026-03-20T00:00:00Z" }) { member { id } } }`, {
      m: member,
      t: p.tiers.Silver,
    });
    await p.buy(member, 600);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Silver');

    at('2026-03-25T12:00:00Z');
    expect((await p.member(member)).manualTier).toBeNull();
    await p.buy(member, 1);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Gold');
  });

  it('close a period once per member even when the job runs twice at the same moment', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Twice', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z' });
    const members: string[] = [];
    for (let i = 0; i < 25; i++) members.push(await p.enroll(`twice${i}@example.com`));
    for (const m of members) await p.buy(m, 150);
    await graph.deliverEvents();

    at('2026-05-01T00:00:05Z');
    const members$ = graph.subgraphs['members']!;
    await Promise.all([members$.runJobs(), members$.runJobs()]);
    const rows = (await members$.db.query(
      `SELECT member_id, count(*)::int AS n FROM tier_changes WHERE member_id = ANY($1::uuid[]) AND reason_code = 'PERIOD_END' GROUP BY member_id`,
      [members],
    )) as { n: number }[];
    expect(rows).toHaveLength(25);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    for (const m of members.slice(0, 3)) expect((await p.member(m)).tier?.name).toBe('Bronze');
  });

  it('refuse tier rules out of range, naming the field', async () => {
    const p = await tierProgram(graph, 'Bad rules', {});
    const response = await p.admin.send(`mutation($p: ID!) { configureTierRules(input: { programId: $p, periodMonths: 0 }) { program { id } } }`, { p: p.id });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'periodMonths' });
    const agentTry = await p.agent.send(`mutation($p: ID!) { configureTierRules(input: { programId: $p, graceDays: 5 }) { program { id } } }`, { p: p.id });
    expect(agentTry.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});

describe('automatic tiers at the edges', () => {
  it('count a purchase made just before the period end but delivered after it: the upgrade still happens', async () => {
    at('2026-12-20T12:00:00Z');
    const p = await tierProgram(graph, 'Late purchase', {});
    const member = await p.enroll('late@example.com');
    await p.buy(member, 450);
    await graph.deliverEvents();
    at('2027-01-01T00:01:00Z');
    await closePeriods(); // 450 keeps Silver through 2027
    await p.buy(member, 100, '2026-12-31T23:59:00Z');
    await graph.deliverEvents();
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Gold');
    expect(view.tierHistory[0]).toMatchObject({ toTier: { name: 'Gold' }, reasonCode: 'QUALIFIED' });
  });

  it('take a return after its period closed from the period in force: the status stays, but must be earned back', async () => {
    at('2026-12-10T12:00:00Z');
    const p = await tierProgram(graph, 'Late return', {});
    const member = await p.enroll('return@example.com');
    const purchase = await p.buy(member, 600);
    await graph.deliverEvents();
    at('2027-01-01T00:01:00Z');
    await closePeriods();
    at('2027-01-05T12:00:00Z');
    const { recordReturn } = await p.agent.data<{ recordReturn: { userErrors: unknown[] } }>(
      `mutation($input: RecordReturnInput!) { recordReturn(input: $input) { return { points } userErrors { code message } } }`,
      { input: { idempotencyKey: `late-return-${Date.now()}`, purchaseId: purchase } },
    );
    expect(recordReturn.userErrors).toEqual([]);
    await graph.deliverEvents();
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Gold');
    expect(view.tierProgress).toMatchObject({ statusPoints: -600, pointsToKeep: 1100 });
    // At the end of 2027 without new points: down to what −600 supports.
    at('2028-01-01T00:01:00Z');
    await closePeriods();
    expect((await p.member(member)).tier?.name).toBe('Bronze');
  });

  it('keep the points already earned when the program changes its qualification period', async () => {
    at('2026-06-10T12:00:00Z');
    const p = await tierProgram(graph, 'Rules change', {});
    const member = await p.enroll('rules@example.com');
    await p.buy(member, 300);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Silver');
    at('2026-06-15T12:00:00Z');
    const changed = await p.admin.data<{ configureTierRules: { program: { tierRules: unknown } } }>(
      `mutation($p: ID!) { configureTierRules(input: { programId: $p, periodMonths: 1, periodAnchor: "2026-01-01T00:00:00Z" }) { program { tierRules { periodMonths periodAnchor } } } }`,
      { p: p.id },
    );
    expect(changed.configureTierRules.program.tierRules).toEqual({ periodMonths: 1, periodAnchor: '2026-01-01T00:00:00.000Z' });
    // Not judged for May (a month it never had as a period), and June keeps the June purchase.
    await closePeriods();
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Silver');
    expect(view.tierProgress).toMatchObject({ statusPoints: 300, periodStart: '2026-06-01T00:00:00.000Z', periodEnd: '2026-07-01T00:00:00.000Z' });
    await p.buy(member, 250);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Gold');
  });

  it('let an agent pin the tier a member already has, recorded but not announced as a change', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Pin', { periodMonths: 1, periodAnchor: '2026-01-01T00:00:00Z' });
    const member = await p.enroll('pin@example.com');
    await p.buy(member, 150);
    await graph.deliverEvents();
    const ASSIGN = `mutation($m: ID!, $t: ID!) { assignMemberTier(input: { memberId: $m, tierId: $t, reason: "Keep Silver this year" }) { member { manualTier { tier { name } } } userErrors { code } } }`;
    const pinned = await p.agent.data<{ assignMemberTier: { member: { manualTier: unknown }; userErrors: unknown[] } }>(ASSIGN, { m: member, t: p.tiers.Silver });
    expect(pinned.assignMemberTier).toEqual({ member: { manualTier: { tier: { name: 'Silver' } } }, userErrors: [] });
    const again = await p.agent.data<{ assignMemberTier: { userErrors: { code: string }[] } }>(ASSIGN, { m: member, t: p.tiers.Silver });
    expect(again.assignMemberTier.userErrors).toEqual([{ code: 'TIER_UNCHANGED' }]);
    at('2026-05-01T00:00:05Z');
    await closePeriods();
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Silver');
    expect(view.tierHistory[0]).toMatchObject({ fromTier: { name: 'Silver' }, toTier: { name: 'Silver' }, source: 'MANUAL' });
    const announced = (await graph.subgraphs['members']!.db.query(`SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = $1 AND event_type = 'TierChanged'`, [member])) as [{ n: number }];
    expect(announced[0].n).toBe(1); // Bronze → Silver only
  });

  it('judge nobody on a period an admin changed while the period-end job was running', async () => {
    at('2026-03-10T12:00:00Z');
    const p = await tierProgram(graph, 'Race with a rule change', {}); // calendar years
    const member = await p.enroll('race@example.com');
    await p.buy(member, 150);
    await graph.deliverEvents();
    expect((await p.member(member)).tier?.name).toBe('Silver');

    at('2027-01-01T00:00:30Z');
    const db = graph.subgraphs['members']!.db;
    const real = new ProgramSettingsService(db, graph.clock);
    let changed = false;
    // The job has listed the program's members under calendar years when an admin moves the anchor to 1 July.
    const settings = new Proxy(real, {
      get(target, prop) {
        if (prop === 'get')
          return async (programId: string, q?: never) => {
            const read = await target.get(programId, q);
            if (!q && programId === p.id && !changed) {
              changed = true;
              await p.admin.data(`mutation($p: ID!) { configureTierRules(input: { programId: $p, periodAnchor: "2000-07-01T00:00:00Z" }) { program { id } } }`, { p: p.id });
            }
            return read;
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    await new TierService(db, graph.clock, settings, new ReferralService(graph.clock)).closePeriods();
    expect(changed).toBe(true);
    // 2026 had 150 (Silver kept); under the new rules the period July 2026 – July 2027 is still running.
    const view = await p.member(member);
    expect(view.tier?.name).toBe('Silver');
    expect(view.tierHistory).toHaveLength(1);
  });
});
