import { inputFieldDescriptions } from '@loyalty-graph/testing/schema-docs';
import { describe, expect, it } from 'vitest';
import { SURVEY_LIMITS } from './surveys';

/**
 * Every survey limit a caller can hit is written in the schema next to the field it limits:
 * change a bound in SURVEY_LIMITS without changing the docs and this fails.
 */
const shown = (n: number) => n.toLocaleString('en-US');
const fields = inputFieldDescriptions(new URL('../../schema.graphql', import.meta.url));

const documented: [string, string[]][] = [
  ['CreateSurveyInput.title', [`1 to ${SURVEY_LIMITS.titleLength}`]],
  ['CreateSurveyInput.questions', [`1 to ${SURVEY_LIMITS.questions}`, 'at most one NPS']],
  ['CreateSurveyInput.closesAt', [`${SURVEY_LIMITS.maxOpenDays} days`]],
  ['CreateSurveyInput.opensAt', [`${SURVEY_LIMITS.maxOpenDays} days ahead`]],
  ['SurveyQuestionInput.prompt', [`1 to ${SURVEY_LIMITS.promptLength}`]],
  ['SurveyQuestionInput.key', ['1 to 40']],
  ['SurveyAnswerInput.text', [`1 to ${shown(SURVEY_LIMITS.textLength)}`]],
  ['SurveyAnswerInput.score', ['0 to 10']],
];

describe('survey limits in schema.graphql', () => {
  it.each(documented)('%s states its bounds', (field, phrases) => {
    const description = fields.get(field);
    expect(description, field).toBeDefined();
    for (const phrase of phrases) expect(description).toContain(phrase);
  });
});
