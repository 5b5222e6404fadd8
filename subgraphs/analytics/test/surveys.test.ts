import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Viewer } from '@loyalty-graph/shared';
import { errorCodes, type startTestSubgraph, type Caller } from '@loyalty-graph/testing';
import { analyticsFeeds, startAnalytics } from './support';

/**
 * Surveys and NPS on the analytics subgraph alone, against real PostgreSQL. Members (their status,
 * tier and consents) arrive as members' events from memory; segment membership, which another
 * part of analytics maintains, is inserted as rows. The clock is the test's.
 */
const PROGRAM = '00000000-0000-4000-8000-0000000000b1';
const OTHER_PROGRAM = '00000000-0000-4000-8000-0000000000b2';
const GOLD = '00000000-0000-4000-8000-00000000d001';
const SILVER = '00000000-0000-4000-8000-00000000d002';
const SEGMENT = '00000000-0000-4000-8000-00000000e001';

let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
const feeds = analyticsFeeds();
const stops: (() => Promise<void>)[] = [];

const staff = (roles: ('ADMIN' | 'ANALYST' | 'AGENT')[], programId: string | null = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'STAFF', programId, roles, subject: `staff-${roles.join()}-${programId}` });
const memberViewer = (memberId: string, programId = PROGRAM): Viewer => ({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: `idp|${memberId}` });
const admin = () => sub.as(staff(['ADMIN']));
const analyst = () => sub.as(staff(['ANALYST']));
const agent = () => sub.as(staff(['AGENT']));

const T0 = new Date('2026-12-01T00:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

/** Members, by what matters here: status, tier at enrolment, PROFILING consent. */
interface Person {
  id: string;
  tierId: string | null;
  profiling: boolean;
  active: boolean;
}
const people: Person[] = [];
function enrol(person: Omit<Person, 'id'>, programId = PROGRAM): string {
  const id = randomUUID();
  people.push({ id, ...person });
  feeds.members.add('MemberEnrolled', id, { programId, memberId: id, channel: 'SELF', referralId: null, enrolledAt: T0.toISOString(), tierId: person.tierId }, T0);
  const consents = [{ channel: 'EMAIL', purpose: 'MARKETING', granted: true }, ...(person.profiling ? [{ channel: 'PUSH', purpose: 'PROFILING', granted: true }] : [{ channel: 'EMAIL', purpose: 'PROFILING', granted: false }])];
  feeds.members.add('ConsentsChanged', id, { programId, memberId: id, consents, changedAt: T0.toISOString() }, T0);
  if (!person.active) feeds.members.add('MemberStatusChanged', id, { programId, memberId: id, fromStatus: 'ACTIVE', toStatus: 'SUSPENDED', reason: 'fraud check', changedAt: T0.toISOString() }, T0);
  return id;
}
const count = async (sql: string, params: unknown[]) => ((await sub.db.query(sql, params)) as { n: number }[])[0]!.n;
const drain = async () => {
  for (const consumer of sub.consumers) await consumer.drain();
};

const SURVEY_FIELDS = `id programId title segmentId status audienceSize opensAt closesAt closedAt questions { key kind prompt required }`;
const RESULT_FIELDS = `audience respondents responseRate scored promoters passives detractors nps standardError confidenceLow confidenceHigh smallSample profilingConsentOnly`;
const CREATE = `mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { ${SURVEY_FIELDS} } }`;
const ANSWER = `mutation($input: AnswerSurveyInput!) { answerSurvey(input: $input) { surveyId memberId answeredAt } }`;
const CLOSE = `mutation($id: ID!) { closeSurvey(input: { surveyId: $id }) { id status closedAt } }`;
const MEMBER_SURVEYS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { surveys { id title status } } } }`;
const RESULTS = `query($id: ID!) { survey(id: $id) { id audienceSize results { ${RESULT_FIELDS} } } }`;
const TEXTS = `query($id: ID!) { survey(id: $id) { textAnswers { questionKey text } } }`;
const PROGRAM_NPS = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!, $tierId: ID, $segmentId: ID) {
  _entities(representations: $reps) { ... on Program { nps(from: $from, to: $to, tierId: $tierId, segmentId: $segmentId) { ${RESULT_FIELDS} } } } }`;

type SurveyOut = { id: string; status: string; audienceSize: number | null; segmentId: string | null };
type Result = { audience: number; respondents: number; responseRate: number | null; scored: number; promoters: number; passives: number; detractors: number; nps: number | null; standardError: number | null; confidenceLow: number | null; confidenceHigh: number | null; smallSample: boolean; profilingConsentOnly: boolean };

const NPS_QUESTIONS = [
  { key: 'recommend', kind: 'NPS', prompt: 'How likely are you to recommend us to a friend?', required: true },
  { key: 'why', kind: 'TEXT', prompt: 'What is the main reason for your score?', required: false },
];
function surveyInput(overrides: Record<string, unknown> = {}) {
  return { programId: PROGRAM, idempotencyKey: `survey-${randomUUID()}`, title: 'Winter NPS', questions: NPS_QUESTIONS, opensAt: at(1).toISOString(), closesAt: at(24 * 14).toISOString(), ...overrides };
}
async function createSurvey(overrides: Record<string, unknown> = {}): Promise<SurveyOut> {
  return (await (await admin()).data<{ createSurvey: SurveyOut }>(CREATE, { input: surveyInput(overrides) })).createSurvey;
}
async function memberSurveys(as: Caller, memberId: string): Promise<{ id: string }[]> {
  return (await as.data<{ _entities: { surveys: { id: string }[] }[] }>(MEMBER_SURVEYS, { reps: [{ __typename: 'Member', id: memberId }] }))._entities[0]!.surveys;
}
const answer = async (as: Caller, input: Record<string, unknown>) => as.send(ANSWER, { input });
const score = (surveyId: string, value: number, text?: string) => ({ surveyId, answers: [{ key: 'recommend', score: value }, ...(text ? [{ key: 'why', text }] : [])] });
async function results(as: Caller, surveyId: string): Promise<Result> {
  return (await as.data<{ survey: { results: Result } }>(RESULTS, { id: surveyId })).survey.results;
}
async function programNps(as: Caller, vars: Record<string, unknown>): Promise<Result> {
  return (await as.data<{ _entities: { nps: Result }[] }>(PROGRAM_NPS, { reps: [{ __typename: 'Program', id: PROGRAM }], from: T0.toISOString(), to: at(24 * 30).toISOString(), ...vars }))._entities[0]!.nps;
}

// Twelve ACTIVE members: six GOLD (four granted PROFILING), six SILVER (two granted); two SUSPENDED
// GOLD members with PROFILING; one member of another program.
let gold: string[] = [];
let silver: string[] = [];
let suspended: string[] = [];
let outsider = '';

beforeAll(async () => {
  sub = (await startAnalytics(feeds, stops)).sub;
  sub.clock.set(T0);
  gold = [true, true, true, true, false, false].map((profiling) => enrol({ tierId: GOLD, profiling, active: true }));
  silver = [true, true, false, false, false, false].map((profiling) => enrol({ tierId: SILVER, profiling, active: true }));
  suspended = [0, 1].map(() => enrol({ tierId: GOLD, profiling: true, active: false }));
  outsider = enrol({ tierId: GOLD, profiling: true, active: true }, OTHER_PROGRAM);
  await drain();
});
afterAll(async () => {
  await sub?.stop();
  for (const stop of stops) await stop();
});

describe('createSurvey', () => {
  it('is idempotent on its key; the same key for a different survey is a CONFLICT', async () => {
    const input = surveyInput();
    const as = await admin();
    const first = (await as.data<{ createSurvey: SurveyOut }>(CREATE, { input })).createSurvey;
    const again = (await as.data<{ createSurvey: SurveyOut }>(CREATE, { input })).createSurvey;
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ status: 'SCHEDULED', audienceSize: null, segmentId: null });
    expect(errorCodes(await as.send(CREATE, { input: { ...input, title: 'Another' } }))).toEqual(['CONFLICT']);
    expect(await count(`SELECT count(*)::int AS n FROM surveys WHERE idempotency_key = $1`, [input.idempotencyKey])).toBe(1);
  });

  it('creates one survey when the same request is sent five times at once', async () => {
    const input = surveyInput();
    const as = await admin();
    const created = await Promise.all(Array.from({ length: 5 }, () => as.data<{ createSurvey: SurveyOut }>(CREATE, { input })));
    expect(new Set(created.map((c) => c.createSurvey.id)).size).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM surveys WHERE idempotency_key = $1`, [input.idempotencyKey])).toBe(1);
  });

  it('refuses analysts, agents, members and other programs’ admins (FORBIDDEN) and malformed surveys (BAD_USER_INPUT)', async () => {
    for (const viewer of [staff(['ANALYST']), staff(['AGENT']), staff(['ADMIN'], OTHER_PROGRAM), memberViewer(gold[0]!)]) {
      expect(errorCodes(await (await sub.as(viewer)).send(CREATE, { input: surveyInput() })), viewer.kind).toEqual(['FORBIDDEN']);
    }
    const as = await admin();
    for (const bad of [
      { questions: [NPS_QUESTIONS[0], { ...NPS_QUESTIONS[0], key: 'again' }] }, // two NPS questions
      { questions: [] },
      { questions: [{ ...NPS_QUESTIONS[0], key: 'Not A Key' }] },
      { closesAt: at(1).toISOString() }, // not after opensAt
      { opensAt: at(-48).toISOString(), closesAt: at(-1).toISOString() }, // already over
      { title: '   ' },
      { idempotencyKey: 'short' },
    ]) {
      expect(errorCodes(await as.send(CREATE, { input: surveyInput(bad) })), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('audience', () => {
  it('is fixed when the survey opens: the program’s ACTIVE members then, never suspended ones, another program’s, or members who join later', async () => {
    sub.clock.set(T0);
    const survey = await createSurvey();
    expect(await memberSurveys(await sub.as(memberViewer(gold[0]!)), gold[0]!)).toEqual([]);
    sub.clock.set(at(2));
    expect((await sub.runJobs())['fix-survey-audiences']).toBeGreaterThanOrEqual(1);
    const late = enrol({ tierId: GOLD, profiling: true, active: true });
    await drain();
    const recipients = (await sub.db.query(`SELECT member_id FROM survey_recipients WHERE survey_id = $1`, [survey.id])) as { member_id: string }[];
    expect(recipients.map((r) => r.member_id).sort()).toEqual([...gold, ...silver].sort());
    const read = (await (await analyst()).data<{ survey: { audienceSize: number } }>(RESULTS, { id: survey.id })).survey;
    expect(read.audienceSize).toBe(12);
    expect((await memberSurveys(await sub.as(memberViewer(gold[0]!)), gold[0]!)).map((s) => s.id)).toContain(survey.id);
    expect((await memberSurveys(await sub.as(memberViewer(late)), late)).map((s) => s.id)).not.toContain(survey.id);
    expect(errorCodes(await answer(await sub.as(memberViewer(late)), score(survey.id, 9)))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await answer(await sub.as(memberViewer(suspended[0]!)), score(survey.id, 9)))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await answer(await sub.as(memberViewer(outsider, OTHER_PROGRAM)), score(survey.id, 9)))).toEqual(['FORBIDDEN']);
    expect(await memberSurveys(await sub.as(memberViewer(outsider, OTHER_PROGRAM)), outsider)).toEqual([]);
    // The late member is not in the twelve of the next tests' breakdowns: suspend them.
    feeds.members.add('MemberStatusChanged', late, { programId: PROGRAM, memberId: late, fromStatus: 'ACTIVE', toStatus: 'SUSPENDED', reason: 'test', changedAt: at(2).toISOString() });
    await drain();
  });

  it('of a segment is its ACTIVE members (segment_members when the survey opens), fixed on first read even before the job runs', async () => {
    sub.clock.set(at(2));
    const since = T0;
    // A hand-made segment (createSurvey refuses a segment the program does not have), its members written directly.
    await sub.db.query(
      `INSERT INTO segments (id, program_id, name, visible_to_members, rules, windows_evaluated_at, created_at, updated_at) VALUES ($1, $2, 'Hand-made', false, '{}', $3, $3, $3)`,
      [SEGMENT, PROGRAM, since],
    );
    for (const memberId of [gold[0]!, silver[0]!, suspended[0]!]) {
      await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, $4)`, [PROGRAM, SEGMENT, memberId, since]);
    }
    const survey = await createSurvey({ segmentId: SEGMENT, opensAt: at(2).toISOString() });
    expect(survey).toMatchObject({ status: 'OPEN', audienceSize: 2, segmentId: SEGMENT });
    // Joining the segment afterwards does not add anyone to a fixed audience.
    await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, $4)`, [PROGRAM, SEGMENT, gold[1]!, at(3)]);
    expect(errorCodes(await answer(await sub.as(memberViewer(gold[1]!)), score(survey.id, 9)))).toEqual(['FORBIDDEN']);
    expect(await answer(await sub.as(memberViewer(silver[0]!)), score(survey.id, 3))).not.toHaveProperty('errors');
    expect(await results(await analyst(), survey.id)).toMatchObject({ audience: 2, respondents: 1, responseRate: 0.5, detractors: 1, nps: -100 });
    await sub.db.query(`DELETE FROM segment_members WHERE segment_id = $1 AND member_id = $2`, [SEGMENT, gold[1]!]);
    await (await admin()).data(CLOSE, { id: survey.id });
  });
});

describe('answerSurvey', () => {
  let survey: SurveyOut;
  beforeAll(async () => {
    sub.clock.set(at(2));
    survey = await createSurvey({ opensAt: at(2).toISOString(), title: 'Answering' });
  });

  it('takes a member’s answer once: the second is a CONFLICT, and the survey leaves their list', async () => {
    const ann = await sub.as(memberViewer(gold[2]!));
    expect((await memberSurveys(ann, gold[2]!)).map((s) => s.id)).toContain(survey.id);
    const stored = await ann.data<{ answerSurvey: { memberId: string; answeredAt: string } }>(ANSWER, { input: score(survey.id, 10, 'Great app') });
    expect(stored.answerSurvey).toEqual({ surveyId: survey.id, memberId: gold[2]!, answeredAt: at(2).toISOString() });
    const second = await answer(ann, score(survey.id, 0));
    expect(errorCodes(second)).toEqual(['CONFLICT']);
    expect(second.errors![0]!.message).toMatch(/already answered/);
    expect((await memberSurveys(ann, gold[2]!)).map((s) => s.id)).not.toContain(survey.id);
    expect(await results(await analyst(), survey.id)).toMatchObject({ respondents: 1, promoters: 1 });
  });

  it('stores one answer when the same member submits ten times at once', async () => {
    const bob = await sub.as(memberViewer(gold[3]!));
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => answer(bob, score(survey.id, i))));
    const codes = responses.map((r) => errorCodes(r).join() || 'OK');
    expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
    expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(9);
    const rows = (await sub.db.query(`SELECT nps_score FROM survey_responses WHERE survey_id = $1 AND member_id = $2`, [survey.id, gold[3]!])) as { nps_score: number }[];
    expect(rows).toHaveLength(1);
    // The stored score is the one whose request succeeded.
    const winner = codes.indexOf('OK');
    expect(rows[0]!.nps_score).toBe(winner);
  });

  it('lets an agent or admin answer on a member’s behalf (memberId required), never another member or an analyst', async () => {
    const as = await agent();
    expect(errorCodes(await answer(as, score(survey.id, 8)))).toEqual(['BAD_USER_INPUT']);
    expect((await memberSurveys(as, gold[4]!)).map((s) => s.id)).toContain(survey.id);
    expect(await answer(as, { ...score(survey.id, 8), memberId: gold[4]! })).not.toHaveProperty('errors');
    expect(errorCodes(await answer(await sub.as(memberViewer(gold[0]!)), { ...score(survey.id, 8), memberId: gold[5]! }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await answer(await sub.as(staff(['AGENT'], OTHER_PROGRAM)), { ...score(survey.id, 8), memberId: gold[5]! }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await answer(await analyst(), { ...score(survey.id, 8), memberId: gold[5]! }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await sub.as(memberViewer(gold[0]!)).then((m) => m.send(MEMBER_SURVEYS, { reps: [{ __typename: 'Member', id: gold[5]! }] })))).toEqual(['FORBIDDEN']);
  });

  it('refuses incomplete or malformed answers (BAD_USER_INPUT), an unknown survey (NOT_FOUND), and a survey not open yet or closed (BAD_USER_INPUT)', async () => {
    const cy = await sub.as(memberViewer(gold[5]!));
    for (const answers of [
      [{ key: 'why', text: 'forgot the score' }], // the required NPS question is missing
      [{ key: 'recommend', score: 11 }],
      [{ key: 'recommend', score: -1 }],
      [{ key: 'recommend', score: 7 }, { key: 'colour', text: 'blue' }],
      [{ key: 'recommend', score: 7 }, { key: 'why', text: 'x'.repeat(2001) }],
      [{ key: 'recommend', text: 'ten' }],
    ]) {
      expect(errorCodes(await answer(cy, { surveyId: survey.id, answers })), JSON.stringify(answers).slice(0, 60)).toEqual(['BAD_USER_INPUT']);
    }
    expect(errorCodes(await answer(cy, score(randomUUID(), 9)))).toEqual(['NOT_FOUND']);
    const later = await createSurvey({ opensAt: at(100).toISOString() });
    const notYet = await answer(cy, score(later.id, 9));
    expect(errorCodes(notYet)).toEqual(['BAD_USER_INPUT']);
    expect(notYet.errors![0]!.message).toMatch(/not open yet/);
    const closing = await createSurvey({ opensAt: at(2).toISOString() });
    expect((await (await admin()).data<{ closeSurvey: { status: string } }>(CLOSE, { id: closing.id })).closeSurvey.status).toBe('CLOSED');
    const closed = await answer(cy, score(closing.id, 9));
    expect(errorCodes(closed)).toEqual(['BAD_USER_INPUT']);
    expect(closed.errors![0]!.message).toMatch(/closed/);
    expect((await memberSurveys(cy, gold[5]!)).map((s) => s.id)).not.toContain(closing.id);
    // Nothing was stored by any refusal.
    expect(await count(`SELECT count(*)::int AS n FROM survey_responses WHERE member_id = $1`, [gold[5]!])).toBe(0);
  });

  it('is closed only by the program’s admins; closing twice changes nothing', async () => {
    const target = await createSurvey({ opensAt: at(2).toISOString() });
    for (const viewer of [staff(['ANALYST']), staff(['AGENT']), staff(['ADMIN'], OTHER_PROGRAM)]) {
      expect(errorCodes(await (await sub.as(viewer)).send(CLOSE, { id: target.id }))).toEqual(['FORBIDDEN']);
    }
    const first = (await (await admin()).data<{ closeSurvey: { closedAt: string } }>(CLOSE, { id: target.id })).closeSurvey;
    sub.clock.set(at(3));
    const second = (await (await admin()).data<{ closeSurvey: { closedAt: string } }>(CLOSE, { id: target.id })).closeSurvey;
    expect(second.closedAt).toBe(first.closedAt);
    expect(errorCodes(await (await admin()).send(CLOSE, { id: randomUUID() }))).toEqual(['NOT_FOUND']);
    sub.clock.set(at(2));
  });
});

describe('NPS', () => {
  // A survey opening at hour 5 (after the others) to the twelve ACTIVE members; ten answer.
  // GOLD:   10 (P), 9 (P), 9 (P), 6 (D)  — all four granted PROFILING — then 8 (Pa), 0 (D) without it.
  // SILVER: 7 (Pa), 3 (D) — both granted PROFILING — then 10 (P), 5 (D) without it; two do not answer.
  const goldScores = [10, 9, 9, 6, 8, 0];
  const silverScores: (number | null)[] = [7, 3, 10, 5, null, null];
  let survey: SurveyOut;

  beforeAll(async () => {
    sub.clock.set(at(5));
    survey = await createSurvey({ opensAt: at(5).toISOString(), title: 'Constructed' });
    // Opened in the same hour, with no NPS question: never part of Program.nps (its audience would double it).
    await createSurvey({ opensAt: at(5).toISOString(), title: 'Text only', questions: [{ key: 'ideas', kind: 'TEXT', prompt: 'Any ideas?', required: true }] });
    const as = await agent();
    const all = [...gold.map((id, i) => [id, goldScores[i]!] as const), ...silver.map((id, i) => [id, silverScores[i] ?? null] as const)];
    for (const [memberId, value] of all) {
      if (value !== null) await as.data(ANSWER, { input: { ...score(survey.id, value, `Score ${value} because of reasons`), memberId } });
    }
  });

  it('gives a survey’s counts, NPS, standard error, 95 % interval and response rate exactly', async () => {
    // 10 scored: 4 promoters, 2 passives, 4 detractors → NPS 0; var = 0.8 − 0 = 0.8; SE = 100·sqrt(0.08) = 28.2843;
    // interval ±1.959964 × 28.2843 = ±55.4362.
    expect(await results(await analyst(), survey.id)).toEqual({
      audience: 12,
      respondents: 10,
      responseRate: 0.8333,
      scored: 10,
      promoters: 4,
      passives: 2,
      detractors: 4,
      nps: 0,
      standardError: 28.28,
      confidenceLow: -55.44,
      confidenceHigh: 55.44,
      smallSample: true,
      profilingConsentOnly: false,
    });
  });

  it('program-wide includes every answer; by tier or segment only members who granted PROFILING', async () => {
    const as = await analyst();
    const from = at(4).toISOString(); // only the constructed survey opened from hour 4
    expect(await programNps(as, { from })).toMatchObject({ audience: 12, respondents: 10, promoters: 4, passives: 2, detractors: 4, nps: 0, profilingConsentOnly: false });
    // GOLD with PROFILING: 10, 9, 9, 6 → 3 P, 1 D of 4 → NPS 50; var = 1 − 0.25 = 0.75; SE = 100·sqrt(0.75/4) = 43.30.
    expect(await programNps(as, { from, tierId: GOLD })).toEqual({
      audience: 4,
      respondents: 4,
      responseRate: 1,
      scored: 4,
      promoters: 3,
      passives: 0,
      detractors: 1,
      nps: 50,
      standardError: 43.3,
      confidenceLow: -34.87,
      confidenceHigh: 100,
      smallSample: true,
      profilingConsentOnly: true,
    });
    // SILVER with PROFILING: 7 and 3; the two who did not answer lack PROFILING, so the audience is 2.
    expect(await programNps(as, { from, tierId: SILVER })).toMatchObject({ audience: 2, respondents: 2, passives: 1, detractors: 1, nps: -50, profilingConsentOnly: true });
    // The segment now: gold[0] (PROFILING, 10), silver[0] (PROFILING, 7), suspended[0] (not asked), and
    // gold[4] (no PROFILING, 8) and silver[1] (PROFILING, 3) added here.
    for (const memberId of [gold[4]!, silver[1]!]) await sub.db.query(`INSERT INTO segment_members (program_id, segment_id, member_id, since) VALUES ($1, $2, $3, $4)`, [PROGRAM, SEGMENT, memberId, T0]);
    expect(await programNps(as, { from, segmentId: SEGMENT })).toMatchObject({ audience: 3, respondents: 3, promoters: 1, passives: 1, detractors: 1, nps: 0, profilingConsentOnly: true });
    // Both filters: GOLD members of the segment who granted PROFILING: gold[0] alone.
    expect(await programNps(as, { from, segmentId: SEGMENT, tierId: GOLD })).toMatchObject({ audience: 1, promoters: 1, nps: 100 });
  });

  it('follows a withdrawn PROFILING consent at once, and counts every survey with an NPS question opened in the range', async () => {
    const as = await analyst();
    const from = at(4).toISOString();
    const withdrawn = gold[0]!; // a promoter
    feeds.members.add('ConsentsChanged', withdrawn, { programId: PROGRAM, memberId: withdrawn, consents: [{ channel: 'PUSH', purpose: 'PROFILING', granted: false }], changedAt: at(5).toISOString() });
    await drain();
    expect(await programNps(as, { from, tierId: GOLD })).toMatchObject({ audience: 3, promoters: 2, detractors: 1 });
    expect(await programNps(as, { from })).toMatchObject({ audience: 12, promoters: 4 });
    // From T0: the earlier surveys (audience, segment, answering) count too.
    const all = await programNps(as, {});
    expect(all.audience).toBeGreaterThan(12);
    expect(all.respondents).toBeGreaterThan(10);
  });

  it('refuses agents, members and other programs’ staff (FORBIDDEN), and reversed ranges (BAD_USER_INPUT)', async () => {
    for (const viewer of [staff(['AGENT']), memberViewer(gold[0]!), staff(['ANALYST'], OTHER_PROGRAM)]) {
      const res = await (await sub.as(viewer)).send(PROGRAM_NPS, { reps: [{ __typename: 'Program', id: PROGRAM }], from: T0.toISOString(), to: at(1).toISOString() });
      expect(errorCodes(res), viewer.kind).toEqual(['FORBIDDEN']);
      expect(errorCodes(await (await sub.as(viewer)).send(RESULTS, { id: survey.id })), viewer.kind).toEqual(['FORBIDDEN']);
    }
    const res = await (await analyst()).send(PROGRAM_NPS, { reps: [{ __typename: 'Program', id: PROGRAM }], from: at(1).toISOString(), to: T0.toISOString() });
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('visibility', () => {
  it('shows free-text answers to admins and analysts only; a member reaching a survey cannot read its results', async () => {
    sub.clock.set(at(5));
    const [constructed] = (await sub.db.query(`SELECT id FROM surveys WHERE title = 'Constructed'`)) as { id: string }[];
    for (const as of [await admin(), await analyst()]) {
      const texts = (await as.data<{ survey: { textAnswers: { questionKey: string; text: string }[] } }>(TEXTS, { id: constructed!.id })).survey.textAnswers;
      expect(texts).toHaveLength(10);
      expect(texts.every((t) => t.questionKey === 'why' && /^Score \d+ because of reasons$/.test(t.text))).toBe(true);
    }
    expect(errorCodes(await (await agent()).send(TEXTS, { id: constructed!.id }))).toEqual(['FORBIDDEN']);
    // The program's list of surveys: its admins and analysts, newest opening first.
    const LIST = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Program { surveys { title opensAt } } } }`;
    const reps = [{ __typename: 'Program', id: PROGRAM }];
    const listed = (await (await analyst()).data<{ _entities: { surveys: { title: string; opensAt: string }[] }[] }>(LIST, { reps }))._entities[0]!.surveys;
    expect(listed.map((l) => l.title)).toContain('Constructed');
    expect(listed.map((l) => l.opensAt)).toEqual([...listed.map((l) => l.opensAt)].sort().reverse());
    for (const viewer of [staff(['AGENT']), staff(['ANALYST'], OTHER_PROGRAM)]) expect(errorCodes(await (await sub.as(viewer)).send(LIST, { reps }))).toEqual(['FORBIDDEN']);
    // A member lists an open survey but its results and free text are not theirs to read.
    const fresh = await createSurvey({ opensAt: at(5).toISOString(), title: 'Visibility' });
    const ann = await sub.as(memberViewer(silver[4]!));
    const res = await ann.send(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { surveys { id results { nps } textAnswers { text } } } } }`, {
      reps: [{ __typename: 'Member', id: silver[4]! }],
    });
    expect(errorCodes(res)).toContain('FORBIDDEN');
    expect(errorCodes(res).every((c) => c === 'FORBIDDEN')).toBe(true);
    expect((await memberSurveys(ann, silver[4]!)).map((s) => s.id)).toContain(fresh.id);
  });
});
