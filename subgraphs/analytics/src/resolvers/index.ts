import type { Resolvers } from '../generated/resolvers';
import { Mutation as KpiMutation } from './kpi-mutations';
import { ProgramMoney } from './money';
import { Experiment, ExperimentMutation, ExperimentProgram, ExperimentQuery, ProgramHoldout } from './experiments';
import { Program, ProgramKpiBucket } from './program';
import { Query } from './query';
import { Member, ProgramSurveys, Survey, SurveyMutation, SurveyQuery } from './surveys';
import { MemberSegments } from './member';
import { ProgramSegments, Segment, SegmentMutations } from './segments';

/**
 * Joined with explicit keys: spreading resolver maps silently drops duplicates. The platform's
 * (scalars, the operators' fields) are joined by the subgraph kit, which refuses a clash.
 */
export const resolvers: Resolvers = {
  Query: { ...Query, survey: SurveyQuery.survey, ...ExperimentQuery },
  // The money fields (liability, breakage, deferred revenue, costs) live in their own file, named one by one.
  Program: {
    ...Program,
    surveys: ProgramSurveys.surveys,
    nps: ProgramSurveys.nps,
    liability: ProgramMoney.liability,
    breakageEstimate: ProgramMoney.breakageEstimate,
    deferredRevenue: ProgramMoney.deferredRevenue,
    programCosts: ProgramMoney.programCosts,
    ...ExperimentProgram,
    segments: ProgramSegments.segments,
    membersSeeSegments: ProgramSegments.membersSeeSegments,
  },
  ProgramKpiBucket,
  // Surveys and NPS (issue 12); experiments, the holdout and the business case (resolvers/experiments.ts).
  Mutation: {
    createSurvey: SurveyMutation.createSurvey,
    closeSurvey: SurveyMutation.closeSurvey,
    answerSurvey: SurveyMutation.answerSurvey,
    ...ExperimentMutation,
    ...SegmentMutations,
    configureAnalytics: KpiMutation.configureAnalytics,
    defineSuccessCriterion: KpiMutation.defineSuccessCriterion,
  },
  // Member: surveys (resolvers/surveys.ts, with the reference), segments and rfm (resolvers/member.ts).
  Member: { ...Member, segments: MemberSegments.segments, rfm: MemberSegments.rfm },
  Survey,
  Experiment,
  ProgramHoldout,
  Segment,
};
