import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { checkAnswers, checkSurveyDefinition, surveyStatus, type SurveyQuestion } from './surveys';

const now = new Date('2026-11-30T12:00:00Z');
const opensAt = new Date('2026-12-01T00:00:00Z');
const closesAt = new Date('2026-12-15T00:00:00Z');
const nps = { key: 'recommend', kind: 'NPS' as const, prompt: 'How likely are you to recommend us?', required: true };
const why = { key: 'why', kind: 'TEXT' as const, prompt: 'Why?', required: false };

function fieldOf(run: () => unknown): string | null {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return null;
}

describe('checkSurveyDefinition', () => {
  it('trims the title and prompts and keeps the questions in order', () => {
    const checked = checkSurveyDefinition({ title: '  Winter  ', questions: [nps, { ...why, prompt: ' Why? ' }], opensAt, closesAt }, now);
    expect(checked).toEqual({ title: 'Winter', questions: [nps, why], opensAt, closesAt });
  });

  it('refuses two NPS questions, duplicate or malformed keys, empty prompts, no questions, reversed, past or year-long windows', () => {
    const base = { title: 'T', questions: [nps], opensAt, closesAt };
    expect(fieldOf(() => checkSurveyDefinition({ ...base, questions: [nps, { ...nps, key: 'again' }] }, now))).toBe('questions');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, questions: [nps, { ...why, key: 'recommend' }] }, now))).toBe('questions');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, questions: [{ ...why, key: 'Why now' }] }, now))).toBe('questions');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, questions: [{ ...why, prompt: '  ' }] }, now))).toBe('questions');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, questions: [] }, now))).toBe('questions');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, title: ' ' }, now))).toBe('title');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, closesAt: opensAt }, now))).toBe('closesAt');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, opensAt: new Date('2026-11-01T00:00:00Z'), closesAt: new Date('2026-11-30T11:00:00Z') }, now))).toBe('closesAt');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, closesAt: new Date('2027-12-03T00:00:00Z') }, now))).toBe('closesAt');
    expect(fieldOf(() => checkSurveyDefinition({ ...base, opensAt: new Date('2027-12-02T00:00:00Z'), closesAt: new Date('2027-12-09T00:00:00Z') }, now))).toBe('opensAt');
    expect(checkSurveyDefinition({ ...base, opensAt: new Date('2027-11-30T00:00:00Z'), closesAt: new Date('2027-12-09T00:00:00Z') }, now).title).toBe('T');
  });
});

describe('surveyStatus', () => {
  it('is SCHEDULED before opensAt, OPEN until closesAt (exclusive) and CLOSED after or once closed early', () => {
    const survey = { opensAt, closesAt, closedAt: null };
    expect(surveyStatus(survey, now)).toBe('SCHEDULED');
    expect(surveyStatus(survey, opensAt)).toBe('OPEN');
    expect(surveyStatus(survey, new Date(closesAt.getTime() - 1))).toBe('OPEN');
    expect(surveyStatus(survey, closesAt)).toBe('CLOSED');
    expect(surveyStatus({ ...survey, closedAt: opensAt }, opensAt)).toBe('CLOSED');
  });
});

describe('checkAnswers', () => {
  const questions: SurveyQuestion[] = [nps, why];

  it('returns the answers in question order, text trimmed, and the NPS score', () => {
    expect(checkAnswers(questions, [{ key: 'why', text: ' Fast checkout ' }, { key: 'recommend', score: 9 }])).toEqual({
      answers: [
        { key: 'recommend', score: 9, text: null },
        { key: 'why', score: null, text: 'Fast checkout' },
      ],
      npsScore: 9,
    });
    expect(checkAnswers([{ ...nps, required: false }, { ...why, required: true }], [{ key: 'why', text: 'ok' }]).npsScore).toBeNull();
  });

  it('refuses unknown keys, a question answered twice, missing required answers, scores out of 0–10, text too long, the wrong kind of answer', () => {
    const refusals = [
      [{ key: 'nope', text: 'x' }, { key: 'recommend', score: 5 }],
      [{ key: 'recommend', score: 5 }, { key: 'recommend', score: 6 }],
      [{ key: 'why', text: 'no score' }],
      [{ key: 'recommend', score: 11 }],
      [{ key: 'recommend', score: -1 }],
      [{ key: 'recommend', score: 7.5 }],
      [{ key: 'recommend', text: 'ten' }],
      [{ key: 'recommend', score: 5 }, { key: 'why', score: 3 }],
      [{ key: 'recommend', score: 5 }, { key: 'why', text: 'x'.repeat(2001) }],
      [{ key: 'recommend', score: 5 }, { key: 'why', text: '   ' }],
      [],
    ];
    for (const answers of refusals) expect(fieldOf(() => checkAnswers(questions, answers)), JSON.stringify(answers).slice(0, 80)).toBe('answers');
    expect(checkAnswers(questions, [{ key: 'recommend', score: 0 }, { key: 'why', text: 'x'.repeat(2000) }]).npsScore).toBe(0);
  });
});
