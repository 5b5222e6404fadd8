import { InputError } from '@loyalty-graph/shared';
import { isNpsScore } from './nps';

/**
 * The rules of a survey and of an answer to it, with no I/O: what a survey may ask, when it takes
 * answers, and whether an answer is complete and well formed. The services enforce them in SQL
 * transactions; the limits are in schema.graphql's docstrings too.
 */

export type QuestionKind = 'NPS' | 'TEXT';
export type SurveyStatus = 'SCHEDULED' | 'OPEN' | 'CLOSED';

export interface SurveyQuestion {
  key: string;
  kind: QuestionKind;
  prompt: string;
  required: boolean;
}

export interface SurveyAnswer {
  key: string;
  score: number | null;
  text: string | null;
}

export const SURVEY_LIMITS = {
  titleLength: 200,
  questions: 20,
  promptLength: 500,
  textLength: 2000,
  /** The longest a survey may stay open: a year and a day. */
  maxOpenDays: 366,
} as const;

const KEY = /^[a-z][a-z0-9_]{0,39}$/;
const DAY_MS = 86_400_000;

/** A survey's definition as given, checked and trimmed; throws InputError naming the field. */
export function checkSurveyDefinition(
  input: { title: string; questions: readonly { key: string; kind: QuestionKind; prompt: string; required: boolean }[]; opensAt: Date; closesAt: Date },
  now: Date,
): { title: string; questions: SurveyQuestion[]; opensAt: Date; closesAt: Date } {
  const title = input.title.trim();
  if (title.length === 0 || title.length > SURVEY_LIMITS.titleLength) throw new InputError(`title must be 1 to ${SURVEY_LIMITS.titleLength} characters`, 'title');
  if (input.questions.length === 0 || input.questions.length > SURVEY_LIMITS.questions) throw new InputError(`A survey asks 1 to ${SURVEY_LIMITS.questions} questions`, 'questions');
  const keys = new Set<string>();
  const questions = input.questions.map((q, i) => {
    if (!KEY.test(q.key)) throw new InputError(`questions[${i}].key must be 1 to 40 lower-case letters, digits or _, starting with a letter`, 'questions');
    if (keys.has(q.key)) throw new InputError(`The key ${q.key} is used by two questions`, 'questions');
    keys.add(q.key);
    const prompt = q.prompt.trim();
    if (prompt.length === 0 || prompt.length > SURVEY_LIMITS.promptLength) throw new InputError(`questions[${i}].prompt must be 1 to ${SURVEY_LIMITS.promptLength} characters`, 'questions');
    return { key: q.key, kind: q.kind, prompt, required: q.required };
  });
  // One NPS question per survey: the survey's NPS is that question's, never a mix of two.
  if (questions.filter((q) => q.kind === 'NPS').length > 1) throw new InputError('A survey asks at most one NPS question', 'questions');
  if (!(input.closesAt.getTime() > input.opensAt.getTime())) throw new InputError('closesAt must be after opensAt', 'closesAt');
  if (input.closesAt.getTime() <= now.getTime()) throw new InputError('closesAt must be in the future', 'closesAt');
  // A survey is planned for the coming year at most: further out, the audience it will get is a guess.
  if (input.opensAt.getTime() - now.getTime() > SURVEY_LIMITS.maxOpenDays * DAY_MS) throw new InputError(`opensAt is at most ${SURVEY_LIMITS.maxOpenDays} days ahead`, 'opensAt');
  if (input.closesAt.getTime() - input.opensAt.getTime() > SURVEY_LIMITS.maxOpenDays * DAY_MS) {
    throw new InputError(`A survey is open at most ${SURVEY_LIMITS.maxOpenDays} days`, 'closesAt');
  }
  return { title, questions, opensAt: input.opensAt, closesAt: input.closesAt };
}

/** SCHEDULED before opensAt; OPEN from opensAt until closesAt (exclusive) unless closed early; CLOSED after. */
export function surveyStatus(survey: { opensAt: Date; closesAt: Date; closedAt: Date | null }, now: Date): SurveyStatus {
  if (survey.closedAt !== null || now.getTime() >= survey.closesAt.getTime()) return 'CLOSED';
  return now.getTime() < survey.opensAt.getTime() ? 'SCHEDULED' : 'OPEN';
}

/**
 * An answer checked against the survey's questions: every key known and answered once, every
 * required question answered, an NPS question with a whole score 0–10 and no text, a TEXT question
 * with 1 to 2,000 characters and no score. Returns the answers (text trimmed, in question order)
 * and the NPS score (null when the survey has no NPS question or it was left out).
 */
export function checkAnswers(questions: readonly SurveyQuestion[], given: readonly { key: string; score?: number | null; text?: string | null }[]): { answers: SurveyAnswer[]; npsScore: number | null } {
  const byKey = new Map(questions.map((q) => [q.key, q]));
  const seen = new Map<string, SurveyAnswer>();
  for (const answer of given) {
    const question = byKey.get(answer.key);
    if (!question) throw new InputError(`The survey has no question ${JSON.stringify(answer.key)}`, 'answers');
    if (seen.has(answer.key)) throw new InputError(`The question ${answer.key} is answered twice`, 'answers');
    const score = answer.score ?? null;
    const text = answer.text == null ? null : answer.text.trim();
    if (question.kind === 'NPS') {
      if (text !== null) throw new InputError(`The question ${answer.key} takes a score, not text`, 'answers');
      if (score === null) throw new InputError(`The question ${answer.key} needs a score from 0 to 10`, 'answers');
      if (!isNpsScore(score)) throw new InputError(`The score of ${answer.key} must be a whole number from 0 to 10`, 'answers');
    } else {
      if (score !== null) throw new InputError(`The question ${answer.key} takes text, not a score`, 'answers');
      if (text === null || text.length === 0) throw new InputError(`The question ${answer.key} needs text`, 'answers');
      if (text.length > SURVEY_LIMITS.textLength) throw new InputError(`The answer to ${answer.key} is longer than ${SURVEY_LIMITS.textLength} characters`, 'answers');
    }
    seen.set(answer.key, { key: answer.key, score, text });
  }
  const missing = questions.filter((q) => q.required && !seen.has(q.key)).map((q) => q.key);
  if (missing.length > 0) throw new InputError(`Required questions are not answered: ${missing.join(', ')}`, 'answers');
  if (seen.size === 0) throw new InputError('An answer answers at least one question', 'answers');
  const answers = questions.flatMap((q) => (seen.has(q.key) ? [seen.get(q.key)!] : []));
  const nps = answers.find((a) => byKey.get(a.key)!.kind === 'NPS');
  return { answers, npsScore: nps?.score ?? null };
}
