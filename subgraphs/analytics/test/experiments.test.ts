import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, ManualClock, type Viewer } from '@loyalty-graph/shared';
import { errorCodes, type startTestSubgraph } from '@loyalty-graph/testing';
import { inHoldout } from '../src/domain/experiments';
import { cuped, summarize, welch } from '../src/domain/statistics';
import { BusinessCases } from '../src/services/business-case';
import { Experiments } from '../src/services/experiments';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * Experiments and the holdout in the analytics subgraph alone, against real PostgreSQL, with
 * members' and the ledger's events served from memory: assignment (once, sticky, holdout in
 * control), the events it emits, the readout's numbers on constructed data, the sample ratio and
 * peeking warnings, and the business case.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];
const clock = new ManualClock();
clock.set(new Date('2026-12-01T00:00:00Z'));

const staff = (programId: string | null, roles: ('ADMIN' | 'ANALYST' | 'AGENT')[]): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });
const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

function enrol(programId: string, n: number, when = '2026-10-01T00:00:00Z'): string[] {
  return Array.from({ length: n }, () => {
    const memberId = randomUUID();
    feeds.members.add('MemberEnrolled', memberId, { programId, memberId, channel: 'SELF', referralId: null, enrolledAt: when }, new Date(when));
    return memberId;
  });
}
function purchase(programId: string, memberId: string, amount: number, when: string) {
  feeds.ledger.add(
    'PointsAccrued',
    memberId,
    { programId, memberId, purchaseId: randomUUID(), points: Math.floor(amount), statusPoints: Math.floor(amount), pending: false, occurredAt: when, partnerId: null, amount: amount.toFixed(2), currency: 'EUR', channel: 'STORE', entryId: randomUUID() },
    new Date(when),
  );
}

const HOLDOUT = `mutation($input: ConfigureHoldoutInput!) { configureHoldout(input: $input) { holdout { share members } userErrors { code } } }`;
const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id status } userErrors { code field } } }`;
const START = `mutation($id: ID!) { startExperiment(input: { experimentId: $id }) { experiment { id status startsAt assignedMembers } userErrors { code } } }`;
const STOP = `mutation($id: ID!) { stopExperiment(input: { experimentId: $id }) { experiment { id status endsAt } userErrors { code } } }`;
/* eslint-disable @typescript-eslint/no-explicit-any -- readout and business case answers are read field by field below */
const READOUT = `query($id: ID!) { experiment(id: $id) { status readout {
  from to preFrom holdoutMembers warnings sampleRatio { chiSquare pValue mismatch }
  variants { key members spendPerMember purchasesPerMember versusControl { metric controlMean variantMean uplift upliftLow upliftHigh degreesOfFreedom significant cupedUplift cupedLow cupedHigh theta varianceReduction } } } } }`;

async function admin(programId: string) {
  return sub.as(staff(programId, ['ADMIN']));
}
async function configureHoldout(programId: string, share: string) {
  const res = await (await admin(programId)).data<{ configureHoldout: { holdout: { share: string; members: number }; userErrors: unknown[] } }>(HOLDOUT, { input: { programId, share, idempotencyKey: `holdout-${randomUUID()}` } });
  return res.configureHoldout;
}
async function createExperiment(programId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const input = {
    programId,
    idempotencyKey: `exp-${randomUUID()}`,
    name: 'Points ×1.5',
    hypothesis: 'Earning 1.5 times the points makes members spend more',
    variants: [
      { key: 'control', weight: 1 },
      { key: 'boost', weight: 1, earnMultiplier: '1.5' },
    ],
    startsAt: '2026-12-01T00:00:00Z',
    plannedEndAt: '2026-12-29T00:00:00Z',
    primaryMetric: 'SPEND',
    ...overrides,
  };
  const { createExperiment: created } = await (await admin(programId)).data<{ createExperiment: { experiment: { id: string }; userErrors: unknown[] } }>(CREATE, { input });
  expect(created.userErrors).toEqual([]);
  return created.experiment.id;
}
async function start(programId: string, id: string) {
  return (await (await admin(programId)).data<{ startExperiment: { experiment: { status: string; assignedMembers: number }; userErrors: { code: string }[] } }>(START, { id })).startExperiment;
}
type Assigned = { memberId: string; variantKey: string; holdout: boolean; earnMultiplier: string | null; endsAt: string | null; startsAt: string };
async function emitted(experimentId: string): Promise<Assigned[]> {
  const rows = (await sub.db.query(`SELECT payload FROM outbox WHERE event_type = 'ExperimentVariantAssigned' AND payload->>'experimentId' = $1 ORDER BY id`, [experimentId])) as { payload: Assigned }[];
  return rows.map((r) => r.payload);
}
async function assignments(experimentId: string): Promise<{ memberId: string; variantKey: string; holdout: boolean }[]> {
  return (await sub.db.query(`SELECT member_id AS "memberId", variant_key AS "variantKey", holdout FROM experiment_assignments WHERE experiment_id = $1`, [experimentId])) as {
    memberId: string;
    variantKey: string;
    holdout: boolean;
  }[];
}

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops, { clock })).sub;
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('the holdout', () => {
  const program = randomUUID();
  let members: string[];
  beforeAll(async () => {
    members = enrol(program, 400);
    await drain();
  });

  it('holds out about the share, sticky: raising it only adds members, and they are never treated', async () => {
    const at10 = await configureHoldout(program, '10');
    expect(at10.userErrors).toEqual([]);
    expect(at10.holdout.share).toBe('10');
    // 10 % of 400 is 40; a binomial's sd is 6.
    expect(at10.holdout.members).toBeGreaterThan(20);
    expect(at10.holdout.members).toBeLessThan(60);
    // Everyone would be treated (weights 1 : 1000): only the holdout stays in control.
    const variants = [
      { key: 'control', weight: 1 },
      { key: 'boost', weight: 1000, earnMultiplier: '2' },
    ];
    const first = await createExperiment(program, { variants });
    await start(program, first);
    const held10 = (await assignments(first)).filter((a) => a.holdout);
    expect(held10).toHaveLength(at10.holdout.members);
    expect(held10.every((a) => a.variantKey === 'control')).toBe(true);

    const at15 = await configureHoldout(program, '15');
    expect(at15.holdout.members).toBeGreaterThan(at10.holdout.members);
    const second = await createExperiment(program, { variants });
    await start(program, second);
    const held15 = new Set((await assignments(second)).filter((a) => a.holdout).map((a) => a.memberId));
    expect(held15.size).toBe(at15.holdout.members);
    for (const a of held10) expect(held15.has(a.memberId)).toBe(true);
    // The events say so too: holdout members get no multiplier and no offers.
    const events = await emitted(second);
    expect(events).toHaveLength(members.length);
    for (const e of events.filter((e) => e.holdout)) expect(e).toMatchObject({ variantKey: 'control', earnMultiplier: null, offerIds: [] });
  });

  it('refuses a share above 20 % (BAD_USER_INPUT), analysts and other programs (FORBIDDEN), and replays a key', async () => {
    const res = await (await admin(program)).send(HOLDOUT, { input: { programId: program, share: '25', idempotencyKey: 'holdout-too-big' } });
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    for (const viewer of [staff(program, ['ANALYST']), staff(randomUUID(), ['ADMIN'])]) {
      const refused = await (await sub.as(viewer)).send(HOLDOUT, { input: { programId: program, share: '5', idempotencyKey: 'holdout-not-yours' } });
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    }
    const input = { programId: program, share: '12.5', idempotencyKey: 'holdout-replayed' };
    const once = await (await admin(program)).data<{ configureHoldout: { holdout: { share: string } } }>(HOLDOUT, { input });
    const twice = await (await admin(program)).data<{ configureHoldout: { holdout: { share: string } } }>(HOLDOUT, { input });
    expect(twice).toEqual(once);
    expect(errorCodes(await (await admin(program)).send(HOLDOUT, { input: { ...input, share: '3' } }))).toEqual(['CONFLICT']);
  });
});

describe('assignment', () => {
  const program = randomUUID();
  let members: string[];
  let experimentId: string;
  beforeAll(async () => {
    members = enrol(program, 300);
    await drain();
    await configureHoldout(program, '10');
  });

  it('refuses an experiment without one untreated control (BAD_USER_INPUT)', async () => {
    const base = { programId: program, name: 'x', hypothesis: 'y', startsAt: '2026-12-01T00:00:00Z', plannedEndAt: '2026-12-29T00:00:00Z', primaryMetric: 'SPEND' };
    for (const variants of [
      [{ key: 'a', weight: 1 }, { key: 'b', weight: 1 }],
      [{ key: 'control', weight: 1, earnMultiplier: '2' }, { key: 'b', weight: 1 }],
    ]) {
      const res = await (await admin(program)).send(CREATE, { input: { ...base, idempotencyKey: `bad-${randomUUID()}`, variants } });
      expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    }
    const analyst = await sub.as(staff(program, ['ANALYST']));
    expect(errorCodes(await analyst.send(CREATE, { input: { ...base, idempotencyKey: `analyst-${randomUUID()}`, variants: [{ key: 'control', weight: 1 }, { key: 'b', weight: 1 }] } }))).toEqual(['FORBIDDEN']);
  });

  it('refuses an experiment whose plannedEndAt has passed (EXPERIMENT_HORIZON_PASSED), which could never start', async () => {
    const input = { programId: program, idempotencyKey: `exp-${randomUUID()}`, name: 'Too late', hypothesis: 'None', variants: [{ key: 'control', weight: 1 }, { key: 'boost', weight: 1, earnMultiplier: '2' }], startsAt: '2026-10-01T00:00:00Z', plannedEndAt: '2026-11-30T00:00:00Z', primaryMetric: 'SPEND' };
    const { createExperiment } = await (await admin(program)).data<{ createExperiment: { experiment: unknown; userErrors: { code: string; field: string }[] } }>(CREATE, { input });
    expect(createExperiment.experiment).toBeNull();
    expect(createExperiment.userErrors.map((e) => [e.code, e.field])).toEqual([['EXPERIMENT_HORIZON_PASSED', 'plannedEndAt']]);
  });

  it('assigns every enrolled member once on start, about half to each arm, holdout in control, and emits one event each', async () => {
    experimentId = await createExperiment(program);
    const started = await start(program, experimentId);
    expect(started).toMatchObject({ experiment: { status: 'RUNNING', assignedMembers: 300 }, userErrors: [] });
    const events = await emitted(experimentId);
    expect(events.map((e) => e.memberId).sort()).toEqual([...members].sort());
    const boost = events.filter((e) => e.variantKey === 'boost');
    // 50/50 of ~270 outside the holdout: within 4 sd.
    expect(boost.length).toBeGreaterThan(100);
    expect(boost.length).toBeLessThan(170);
    expect(boost.every((e) => e.earnMultiplier === '1.5' && !e.holdout && e.endsAt === '2026-12-29T00:00:00.000Z' && e.startsAt === '2026-12-01T00:00:00.000Z')).toBe(true);
    expect(events.filter((e) => e.variantKey === 'control').every((e) => e.earnMultiplier === null)).toBe(true);
  });

  it('is sticky: starting again, redelivering every event and two starts at once assign and emit nothing more', async () => {
    expect((await start(program, experimentId)).userErrors).toEqual([]);
    await Promise.all([start(program, experimentId), start(program, experimentId)]);
    for (const consumer of sub.consumers) await consumer.rewind(0, { forget: true });
    await drain();
    expect(await emitted(experimentId)).toHaveLength(300);
  });

  it('assigns a member who enrols while it runs, once, from the consumer', async () => {
    const [late] = enrol(program, 1, '2026-12-02T00:00:00Z');
    await drain();
    purchase(program, late!, 10, '2026-12-02T01:00:00Z');
    await drain();
    const events = (await emitted(experimentId)).filter((e) => e.memberId === late);
    expect(events).toHaveLength(1);
    expect((await assignments(experimentId)).filter((a) => a.memberId === late)).toHaveLength(1);
  });

  it('on stop, tells every treated member again with endsAt; a stopped experiment cannot restart', async () => {
    clock.set(new Date('2026-12-10T00:00:00Z'));
    const before = await emitted(experimentId);
    const treated = before.filter((e) => e.variantKey === 'boost').length;
    const stop = await (await admin(program)).data<{ stopExperiment: { experiment: { status: string; endsAt: string } } }>(STOP, { id: experimentId });
    expect(stop.stopExperiment.experiment).toEqual({ id: experimentId, status: 'STOPPED', endsAt: '2026-12-10T00:00:00.000Z' });
    const after = (await emitted(experimentId)).slice(before.length);
    expect(after).toHaveLength(treated);
    expect(after.every((e) => e.variantKey === 'boost' && e.endsAt === '2026-12-10T00:00:00.000Z' && e.earnMultiplier === '1.5')).toBe(true);
    await (await admin(program)).data(STOP, { id: experimentId });
    expect(await emitted(experimentId)).toHaveLength(before.length + treated);
    expect((await start(program, experimentId)).userErrors.map((e) => e.code)).toEqual(['EXPERIMENT_STOPPED']);
    // Enrolled after the stop: not assigned.
    enrol(program, 1, '2026-12-11T00:00:00Z');
    await drain();
    expect(await assignments(experimentId)).toHaveLength(301);
    clock.set(new Date('2026-12-01T00:00:00Z'));
  });

  it('refuses a malformed id (BAD_USER_INPUT), an unknown one (NOT_FOUND) and analysts starting or stopping (FORBIDDEN)', async () => {
    const adminCaller = await admin(program);
    expect(errorCodes(await adminCaller.send(START, { id: 'not-an-id' }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await adminCaller.send(STOP, { id: randomUUID() }))).toEqual(['NOT_FOUND']);
    const draft = await createExperiment(program);
    const analyst = await sub.as(staff(program, ['ANALYST']));
    expect(errorCodes(await analyst.send(START, { id: draft }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await sub.as(staff(randomUUID(), ['ADMIN']))).send(STOP, { id: draft }))).toEqual(['FORBIDDEN']);
    const stopDraft = await adminCaller.data<{ stopExperiment: { userErrors: { code: string }[] } }>(STOP, { id: draft });
    expect(stopDraft.stopExperiment.userErrors.map((e) => e.code)).toEqual(['EXPERIMENT_NOT_STARTED']);
  });

  it('misses nobody and assigns nobody twice when members enrol while it starts', async () => {
    const raceProgram = randomUUID();
    const early = enrol(raceProgram, 40);
    await drain();
    const id = await createExperiment(raceProgram);
    const late = enrol(raceProgram, 40, '2026-12-01T00:00:00Z');
    // The consumer delivers the new enrolments while the start assigns the members it knows.
    await Promise.all([start(raceProgram, id), drain()]);
    await drain();
    const events = await emitted(id);
    expect(events.map((e) => e.memberId).sort()).toEqual([...early, ...late].sort());
    expect(await assignments(id)).toHaveLength(80);
  });

  it('limits a segment experiment to the segment’s members', async () => {
    const segmentId = randomUUID();
    const inSegment = members.slice(0, 25);
    // A hand-made segment: createExperiment refuses a segment the program does not have.
    await sub.db.query(
      `INSERT INTO segments (id, program_id, name, visible_to_members, rules, windows_evaluated_at, created_at, updated_at) VALUES ($1, $2, 'Hand-made', false, '{}', now(), now(), now())`,
      [segmentId, program],
    );
    await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) SELECT $1, $2, unnest($3::uuid[]), now()`, [program, segmentId, inSegment]);
    const id = await createExperiment(program, { segmentId });
    await start(program, id);
    expect((await assignments(id)).map((a) => a.memberId).sort()).toEqual([...inSegment].sort());
  });

  it('assigns a member the moment an event puts them in the experiment’s segment', async () => {
    const gold = randomUUID();
    const [climber, other] = enrol(program, 2);
    await drain();
    const { createSegment } = await (await admin(program)).data<{ createSegment: { segment: { id: string } } }>(
      `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } userErrors { code field } } }`,
      { input: { programId: program, idempotencyKey: `gold-${randomUUID()}`, name: 'Gold members', visibleToMembers: false, rules: { tierIds: [gold] } } },
    );
    const id = await createExperiment(program, { segmentId: createSegment.segment.id });
    await start(program, id);
    expect(await assignments(id)).toEqual([]);
    // The tier change alone (no enrolment, no purchase): the segment takes the member in, and the experiment with it.
    feeds.members.add('TierChanged', climber!, { programId: program, memberId: climber, fromTierId: null, toTierId: gold, direction: 'UP', reason: 'QUALIFIED', changedAt: '2026-12-01T12:00:00Z' });
    await drain();
    expect((await assignments(id)).map((a) => a.memberId)).toEqual([climber]);
    expect((await emitted(id)).map((e) => e.memberId)).toEqual([climber]);
    expect((await assignments(id)).map((a) => a.memberId)).not.toContain(other);
  });
});

describe('the readout', () => {
  const program = randomUUID();
  let members: string[];
  let experimentId: string;
  /** Each member's constructed spend: the pre-period habit, and the experiment's (+4 when boosted, ±1 noise). */
  const spend = new Map<string, { pre: number; during: number }>();
  beforeAll(async () => {
    members = enrol(program, 80);
    await drain();
    experimentId = await createExperiment(program);
    await start(program, experimentId);
    const arms = new Map((await assignments(experimentId)).map((a) => [a.memberId, a.variantKey]));
    members.forEach((m, i) => {
      const pre = 20 + (i % 7) * 5;
      const during = pre + (arms.get(m) === 'boost' ? 4 : 0) + ((i % 3) - 1);
      spend.set(m, { pre, during });
      // Pre-period [11-17, 12-01) and the experiment so far [12-01, 12-15).
      purchase(program, m, pre, '2026-11-20T10:00:00Z');
      purchase(program, m, during, '2026-12-05T10:00:00Z');
    });
    // Before the pre-period and after the read: in neither window.
    purchase(program, members[0]!, 999, '2026-11-10T10:00:00Z');
    purchase(program, members[0]!, 999, '2026-12-20T10:00:00Z');
    await drain();
  });

  it('compares each arm with control: means per member, Welch and CUPED intervals, with a peeking warning before the horizon', async () => {
    clock.set(new Date('2026-12-15T00:00:00Z'));
    const analyst = await sub.as(staff(program, ['ANALYST']));
    const { experiment } = await analyst.data<{ experiment: { readout: any } }>(READOUT, { id: experimentId });
    const r = experiment.readout;
    expect({ from: r.from, to: r.to, preFrom: r.preFrom }).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-15T00:00:00.000Z', preFrom: '2026-11-17T00:00:00.000Z' });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^Peeking/);
    const arms = new Map((await assignments(experimentId)).map((a) => [a.memberId, a.variantKey]));
    const of = (key: string) => members.filter((m) => arms.get(m) === key).map((m) => spend.get(m)!);
    const control = of('control');
    const boost = of('boost');
    const [c, b] = r.variants;
    expect(c).toMatchObject({ key: 'control', members: control.length, versusControl: [] });
    expect(b.members).toBe(boost.length);
    expect(c.spendPerMember).toBeCloseTo(summarize(control.map((s) => s.during)).mean, 9);
    expect(b.spendPerMember).toBeCloseTo(summarize(boost.map((s) => s.during)).mean, 9);
    expect(b.purchasesPerMember).toBe(1);
    const spendVs = b.versusControl.find((m: { metric: string }) => m.metric === 'SPEND');
    const expected = welch(summarize(control.map((s) => s.during)), summarize(boost.map((s) => s.during)))!;
    expect(spendVs.uplift).toBeCloseTo(expected.difference, 9);
    expect(spendVs.upliftLow).toBeCloseTo(expected.low, 9);
    expect(spendVs.upliftHigh).toBeCloseTo(expected.high, 9);
    expect(spendVs.degreesOfFreedom).toBeCloseTo(expected.degreesOfFreedom!, 9);
    // The pre-period explains the habit: CUPED sees the +4 through the noise, and much more precisely.
    const adjusted = cuped(control.map((s) => ({ x: s.pre, y: s.during })), boost.map((s) => ({ x: s.pre, y: s.during })))!;
    expect(spendVs.cupedUplift).toBeCloseTo(adjusted.difference, 9);
    expect(spendVs.cupedUplift).toBeGreaterThan(3.5);
    expect(spendVs.cupedUplift).toBeLessThan(4.5);
    expect(spendVs.varianceReduction).toBeGreaterThan(0.9);
    expect(spendVs.cupedHigh - spendVs.cupedLow).toBeLessThan((spendVs.upliftHigh - spendVs.upliftLow) / 3);
    expect(spendVs.theta).toBeCloseTo(1, 1);
    expect(r.sampleRatio.mismatch).toBe(false);
  });

  it('has no peeking warning once read at or after the planned end, and stops measuring at the horizon', async () => {
    clock.set(new Date('2027-01-05T00:00:00Z'));
    const { experiment } = await (await admin(program)).data<{ experiment: { status: string; readout: any } }>(READOUT, { id: experimentId });
    expect(experiment.status).toBe('COMPLETED');
    expect(experiment.readout.to).toBe('2026-12-29T00:00:00.000Z');
    expect(experiment.readout.warnings).toEqual([]);
    // members[0]'s purchase of 999 on 12-20 is inside [12-01, 12-29) now.
    const control = experiment.readout.variants[0];
    const boostArm = experiment.readout.variants[1];
    const total = control.spendPerMember * control.members + boostArm.spendPerMember * boostArm.members;
    expect(total).toBeCloseTo([...spend.values()].reduce((a, s) => a + s.during, 0) + 999, 6);
    clock.set(new Date('2026-12-01T00:00:00Z'));
  });

  it('flags a sample ratio mismatch when assignments went missing', async () => {
    clock.set(new Date('2026-12-15T00:00:00Z'));
    // Lose all but 5 of control (as a broken pipeline would): the 1:1 split no longer holds. A fixed
    // number deleted would not do: the members' ids are random, so control's size varies, and 30 out
    // of a large control leaves a split that is only mildly off (p above 0.001).
    await sub.db.query(
      `DELETE FROM experiment_assignments WHERE experiment_id = $1 AND member_id IN (
         SELECT member_id FROM experiment_assignments WHERE experiment_id = $1 AND variant_key = 'control' AND NOT holdout ORDER BY member_id OFFSET 5)`,
      [experimentId],
    );
    const { experiment } = await (await admin(program)).data<{ experiment: { readout: any } }>(READOUT, { id: experimentId });
    expect(experiment.readout.sampleRatio.mismatch).toBe(true);
    expect(experiment.readout.sampleRatio.pValue).toBeLessThan(0.001);
    expect(experiment.readout.warnings.some((w: string) => w.startsWith('Sample ratio mismatch'))).toBe(true);
    clock.set(new Date('2026-12-01T00:00:00Z'));
  });

  it('refuses agents and other programs (FORBIDDEN) and unknown ids (NOT_FOUND); a draft has no readout', async () => {
    for (const viewer of [staff(program, ['AGENT']), staff(randomUUID(), ['ANALYST'])]) {
      expect(errorCodes(await (await sub.as(viewer)).send(READOUT, { id: experimentId }))).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await (await admin(program)).send(READOUT, { id: randomUUID() }))).toEqual(['NOT_FOUND']);
    const draft = await createExperiment(program);
    const { experiment } = await (await admin(program)).data<{ experiment: { status: string; readout: unknown } }>(READOUT, { id: draft });
    expect(experiment).toEqual({ status: 'DRAFT', readout: null });
  });
});

describe('Program.businessCase', () => {
  const program = randomUUID();
  const BUSINESS = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $reps) { ... on Program { businessCase(from: $from, to: $to) {
    pointsIssued pointsCost { amount currency } cost { amount currency } holdoutShare membersOutsideHoldout holdoutMembers spendPerMemberOutsideHoldout spendPerHoldoutMember
    incrementalRevenue { amount } incrementalRevenueLow { amount } incrementalRevenueHigh { amount } netReturn { amount } netReturnLow { amount } netReturnHigh { amount } warnings } } } }`;
  const reps = [{ __typename: 'Program', id: program, pointValue: { amount: '0.01', currency: 'EUR' } }];
  const vars = { reps, from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };

  it('says revenue cannot be measured without a holdout', async () => {
    enrol(program, 3);
    await drain();
    const { _entities } = await (await admin(program)).data<{ _entities: { businessCase: any }[] }>(BUSINESS, vars);
    expect(_entities[0]!.businessCase).toMatchObject({ incrementalRevenue: null, netReturn: null, holdoutShare: null });
    expect(_entities[0]!.businessCase.warnings[0]).toMatch(/no holdout/);
  });

  it('values the points issued and measures incremental revenue against the holdout with its Welch interval', async () => {
    const members = enrol(program, 197);
    await configureHoldout(program, '20');
    const [salt] = (await sub.db.query(`SELECT salt FROM program_holdouts WHERE program_id = $1`, [program])) as { salt: string }[];
    const held = (m: string) => inHoldout(salt!.salt, m, 20);
    // Outside the holdout members spend 30 or 34 in November, holdout members 10 or 12; one
    // holdout-outside purchase in December is outside the range.
    const spendOf = new Map<string, number>();
    members.forEach((m, i) => {
      const amount = held(m) ? 10 + 2 * (i % 2) : 30 + 4 * (i % 2);
      spendOf.set(m, amount);
      purchase(program, m, amount, '2026-11-15T10:00:00Z');
    });
    purchase(program, members[0]!, 500, '2026-12-02T10:00:00Z');
    await drain();
    const everyone = (await sub.db.query(`SELECT member_id AS "memberId" FROM member_state WHERE program_id = $1`, [program])) as { memberId: string }[];
    expect(everyone).toHaveLength(200);
    const { _entities } = await (await sub.as(staff(program, ['ANALYST']))).data<{ _entities: { businessCase: any }[] }>(BUSINESS, vars);
    const bc = _entities[0]!.businessCase;
    const spends = (inside: boolean) => everyone.filter((m) => held(m.memberId) === inside).map((m) => spendOf.get(m.memberId) ?? 0);
    const out = spends(false);
    const hold = spends(true);
    const points = [...spendOf.values()].reduce((a, b) => a + b, 0);
    expect(bc.pointsIssued).toBe(String(points));
    expect(bc.pointsCost).toEqual({ amount: (points / 100).toFixed(2), currency: 'EUR' });
    // No other costs yet (the Costs service is not merged): cost = the points' value.
    expect(bc.cost).toEqual(bc.pointsCost);
    expect(bc.membersOutsideHoldout).toBe(out.length);
    expect(bc.holdoutMembers).toBe(hold.length);
    expect(hold.length).toBeGreaterThan(10);
    const w = welch(summarize(hold), summarize(out))!;
    const money = (x: number) => (Math.round(x * 100) / 100).toFixed(2);
    expect(bc.incrementalRevenue.amount).toBe(money(w.difference * out.length));
    expect(bc.incrementalRevenueLow.amount).toBe(money(w.low * out.length));
    expect(bc.incrementalRevenueHigh.amount).toBe(money(w.high * out.length));
    expect(Number(bc.netReturn.amount)).toBeCloseTo(Number(money(w.difference * out.length)) - points / 100, 2);
    expect(Number(bc.netReturnLow.amount)).toBeLessThan(Number(bc.netReturn.amount));
    expect(Number(bc.spendPerMemberOutsideHoldout)).toBeCloseTo(summarize(out).mean, 2);
    expect(bc.warnings).toEqual([]);
  });

  it('adds the fulfilment cost and the settlement net a CostSource reports, unless in another currency', async () => {
    const experiments = new Experiments(sub.db, clock);
    const from = new Date(vars.from);
    const to = new Date(vars.to);
    const pointValue = { amount: '0.01', currency: 'EUR' };
    const withCosts = new BusinessCases(sub.db, experiments, { between: async () => ({ fulfilmentCost: '12.34', settlementNet: '-2.30', currency: 'EUR' }) });
    const bc = await withCosts.between(program, from, to, pointValue);
    const pointsCost = Number(bc.pointsCost.amount);
    expect(bc.cost).toEqual({ amount: (pointsCost + 12.34 - 2.3).toFixed(2), currency: 'EUR' });
    expect(Number(bc.netReturn!.amount)).toBeCloseTo(Number(bc.incrementalRevenue!.amount) - Number(bc.cost.amount), 2);
    const inDollars = new BusinessCases(sub.db, experiments, { between: async () => ({ fulfilmentCost: '12.34', settlementNet: '1.00', currency: 'USD' }) });
    const mismatched = await inDollars.between(program, from, to, pointValue);
    expect(mismatched.cost).toEqual(bc.pointsCost);
    expect(mismatched.warnings[0]).toMatch(/USD/);
  });

  it('refuses agents (FORBIDDEN) and a reversed range (BAD_USER_INPUT)', async () => {
    expect(errorCodes(await (await sub.as(staff(program, ['AGENT']))).send(BUSINESS, vars))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await (await admin(program)).send(BUSINESS, { ...vars, to: vars.from }))).toEqual(['BAD_USER_INPUT']);
  });
});
