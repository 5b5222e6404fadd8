import { badUserInput, forbidden, isUuid, pageSize } from '@loyalty-graph/shared';
import type { MemberResolvers, MutationResolvers, ProgramResolvers, QueryResolvers, SurveyResolvers } from '../generated/resolvers';
import { canReadSurveyResults } from '../domain/policy';
import { surveyStatus } from '../domain/surveys';

/** Thin: services/surveys.ts validates and writes; policy in domain/policy.ts. */

/** Program.surveys and Program.nps (joined into Program in resolvers/index.ts). */
export const ProgramSurveys: Pick<ProgramResolvers, 'surveys' | 'nps'> = {
  async surveys(program, _args, { viewer, services }) {
    if (!canReadSurveyResults(viewer, program.id)) throw forbidden('You can see only your own program’s surveys');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.surveys.ofProgram(program.id);
  },
  async nps(program, { from, to, tierId, segmentId }, { viewer, services }) {
    if (!canReadSurveyResults(viewer, program.id)) throw forbidden('You can see only your own program’s NPS');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.surveys.programNps(program.id, { from, to, tierId, segmentId });
  },
};

export const Member: MemberResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  surveys: (member, _args, { viewer, services }) => services.surveys.forMember(viewer, member.id),
};

export const Survey: SurveyResolvers = {
  status: (survey, _args, { clock }) => surveyStatus(survey, clock.now()),
  async results(survey, _args, { viewer, services }) {
    // A member reaches a Survey through Member.surveys: the results are the program staff's.
    if (!canReadSurveyResults(viewer, survey.programId)) throw forbidden('Only the program’s administrators and analysts read survey results');
    return services.surveys.results(survey.id);
  },
  async textAnswers(survey, { first }, { viewer, services }) {
    if (!canReadSurveyResults(viewer, survey.programId)) throw forbidden('Only the program’s administrators and analysts read free-text answers');
    return services.surveys.textAnswers(survey.id, pageSize(first));
  },
};

export const SurveyQuery: Pick<QueryResolvers, 'survey'> = {
  survey: (_parent, { id }, { viewer, services }) => services.surveys.readable(viewer, id),
};

export const SurveyMutation: Pick<MutationResolvers, 'createSurvey' | 'closeSurvey' | 'answerSurvey'> = {
  createSurvey: (_parent, { input }, { viewer, services }) => services.surveys.create(viewer, input),
  closeSurvey: (_parent, { input }, { viewer, services }) => services.surveys.close(viewer, input.surveyId),
  answerSurvey: (_parent, { input }, { viewer, services }) => services.surveys.answer(viewer, input),
};
