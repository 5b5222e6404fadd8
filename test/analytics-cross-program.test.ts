import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Well-formed but wrong targets through the whole supergraph: an experiment or a survey aimed at
 * another program's segment, an unknown one or an archived one. Each is refused with a clear error
 * instead of being stored with an audience that is silently empty.
 */
let graph: TestSupergraph;
let a: TestProgram;
let b: TestProgram;
let segmentOfA: string;
let archivedOfA: string;
let segmentOfB: string;
const key = () => `cross-${randomUUID()}`;

const CREATE_SEGMENT = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } userErrors { code } } }`;
const CREATE_EXPERIMENT = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { experiment { id } userErrors { code field message } } }`;
const CREATE_SURVEY = `mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { id } }`;

async function segment(p: TestProgram, name: string): Promise<string> {
  const { createSegment } = await p.admin.data<{ createSegment: { segment: { id: string } } }>(CREATE_SEGMENT, {
    input: { programId: p.programId, idempotencyKey: key(), name, visibleToMembers: false, rules: { spend: { min: '0' } } },
  });
  return createSegment.segment.id;
}

const experiment = (segmentId: string) => ({
  programId: a.programId,
  idempotencyKey: key(),
  name: 'Double points',
  hypothesis: 'Double points make members buy more',
  segmentId,
  variants: [
    { key: 'control', weight: 1 },
    { key: 'double', weight: 1, earnMultiplier: '2' },
  ],
  startsAt: '2026-12-01T00:00:00Z',
  plannedEndAt: '2026-12-29T00:00:00Z',
  primaryMetric: 'SPEND',
});

const survey = (segmentId: string) => ({
  programId: a.programId,
  idempotencyKey: key(),
  title: 'How are we doing?',
  segmentId,
  questions: [{ key: 'nps', kind: 'NPS', prompt: 'Would you recommend us?', required: true }],
  opensAt: '2026-12-01T09:00:00Z',
  closesAt: '2026-12-20T00:00:00Z',
});

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-12-01T10:00:00Z'));
  a = await createTestProgram(graph, { name: 'Program A' });
  b = await createTestProgram(graph, { name: 'Program B' });
  segmentOfA = await segment(a, 'Everyone of A');
  archivedOfA = await segment(a, 'Retired');
  await a.admin.data(`mutation($id: ID!) { archiveSegment(input: { segmentId: $id }) { userErrors { code } } }`, { id: archivedOfA });
  segmentOfB = await segment(b, 'Everyone of B');
});
afterAll(() => graph?.stop());

describe('an experiment’s segment', () => {
  it('is NOT_FOUND when it is another program’s or unknown', async () => {
    for (const segmentId of [segmentOfB, randomUUID()]) {
      const response = await a.admin.send(CREATE_EXPERIMENT, { input: experiment(segmentId) });
      expect(response.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      expect(response.errors?.[0]?.message).toBe('Segment not found');
    }
  });

  it('is SEGMENT_ARCHIVED when archived', async () => {
    const { createExperiment } = await a.admin.data<{ createExperiment: { experiment: unknown; userErrors: { code: string; field: string }[] } }>(CREATE_EXPERIMENT, {
      input: experiment(archivedOfA),
    });
    expect(createExperiment.experiment).toBeNull();
    expect(createExperiment.userErrors.map((e) => [e.code, e.field])).toEqual([['SEGMENT_ARCHIVED', 'segmentId']]);
  });

  it('may be the program’s own active segment', async () => {
    const { createExperiment } = await a.admin.data<{ createExperiment: { experiment: { id: string } | null; userErrors: unknown[] } }>(CREATE_EXPERIMENT, { input: experiment(segmentOfA) });
    expect(createExperiment.userErrors).toEqual([]);
    expect(createExperiment.experiment?.id).toBeTruthy();
  });
});

describe('a survey’s segment', () => {
  it('is NOT_FOUND when it is another program’s or unknown', async () => {
    for (const segmentId of [segmentOfB, randomUUID()]) {
      const response = await a.admin.send(CREATE_SURVEY, { input: survey(segmentId) });
      expect(response.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
  });

  it('is BAD_USER_INPUT when archived or not an id', async () => {
    for (const segmentId of [archivedOfA, 'not-a-segment']) {
      const response = await a.admin.send(CREATE_SURVEY, { input: survey(segmentId) });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'segmentId' });
    }
  });

  it('may be the program’s own active segment', async () => {
    const { createSurvey } = await a.admin.data<{ createSurvey: { id: string } }>(CREATE_SURVEY, { input: survey(segmentOfA) });
    expect(createSurvey.id).toBeTruthy();
  });
});
