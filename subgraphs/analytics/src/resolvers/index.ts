import type { Resolvers } from '../generated/resolvers';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';
import { Member, ProgramSurveys, Survey, SurveyMutation, SurveyQuery } from './surveys';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query: { ...Query, survey: SurveyQuery.survey },
  Program: { ...Program, surveys: ProgramSurveys.surveys, nps: ProgramSurveys.nps },
  ProgramKpiBucket,
  // Surveys and NPS (issue 12).
  Mutation: { createSurvey: SurveyMutation.createSurvey, closeSurvey: SurveyMutation.closeSurvey, answerSurvey: SurveyMutation.answerSurvey },
  Member,
  Survey,
};
