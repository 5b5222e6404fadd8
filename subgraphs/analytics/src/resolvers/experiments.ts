import { badUserInput, forbidden, isUuid, rethrowInput, toPayload } from '@loyalty-graph/shared';
import type { ExperimentResolvers, MutationResolvers, ProgramHoldoutResolvers, ProgramResolvers, QueryResolvers } from '../generated/resolvers';
import { canReadExperiments } from '../domain/policy';
import { statusAt } from '../services/experiments';

/** The longest business case range, in days: ten years of facts is already one large scan. */
const MAX_BUSINESS_CASE_DAYS = 3660;

/** Experiments, the holdout and the business case. Thin: services check, compute and write. */
export const ExperimentMutation: MutationResolvers = {
  async configureHoldout(_p, { input }, { viewer, services }) {
    if (!isUuid(input.programId)) throw badUserInput('programId is not an id', 'programId');
    const { result, userErrors } = await toPayload('result', () => services.experiments.configureHoldout(viewer, input));
    return { holdout: result ? await services.experiments.holdout(result.programId) : null, userErrors };
  },
  async createExperiment(_p, { input }, { viewer, services }) {
    if (!isUuid(input.programId)) throw badUserInput('programId is not an id', 'programId');
    if (input.segmentId != null && !isUuid(input.segmentId)) throw badUserInput('segmentId is not an id', 'segmentId');
    const { result, userErrors } = await toPayload('result', () => services.experiments.create(viewer, input));
    return { experiment: result ? await services.experiments.byId(result.experimentId) : null, userErrors };
  },
  async startExperiment(_p, { input }, { viewer, services }) {
    const { result, userErrors } = await toPayload('result', () => services.experiments.start(viewer, input.experimentId));
    return { experiment: result ? await services.experiments.byId(result.experimentId) : null, userErrors };
  },
  async stopExperiment(_p, { input }, { viewer, services }) {
    const { result, userErrors } = await toPayload('result', () => services.experiments.stop(viewer, input.experimentId));
    return { experiment: result ? await services.experiments.byId(result.experimentId) : null, userErrors };
  },
};

export const ExperimentQuery: QueryResolvers = {
  async experiment(_p, { id }, { viewer, services }) {
    if (!isUuid(id)) throw badUserInput('id is not an id', 'id');
    return services.experiments.readable(viewer, id);
  },
};

export const ExperimentProgram: ProgramResolvers = {
  async holdout(program, _args, { viewer, services }) {
    if (!canReadExperiments(viewer, program.id)) throw forbidden('You can see only your own program');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.experiments.holdout(program.id);
  },
  async experiments(program, _args, { viewer, services }) {
    if (!canReadExperiments(viewer, program.id)) throw forbidden('You can see only your own program');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.experiments.ofProgram(program.id);
  },
  async businessCase(program, { from, to }, { viewer, services }) {
    if (!canReadExperiments(viewer, program.id)) throw forbidden('You can see only your own program');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    if (!(to > from)) throw badUserInput('to must be after from', 'to');
    if (to.getTime() - from.getTime() > MAX_BUSINESS_CASE_DAYS * 86_400_000) throw badUserInput(`The range is at most ${MAX_BUSINESS_CASE_DAYS} days`, 'to');
    // pointValue comes from members through @requires.
    const pointValue = (program as { pointValue?: { amount: string; currency: string } }).pointValue;
    if (!pointValue) throw new Error('businessCase needs Program.pointValue (@requires)');
    return rethrowInput(() => services.businessCases.between(program.id, from, to, pointValue));
  },
};

export const Experiment: ExperimentResolvers = {
  status: (experiment, _args, { clock }) => statusAt(experiment, clock.now()),
  async assignedMembers(experiment, _args, { services }) {
    return services.experiments.assignedCount(experiment.id);
  },
  async readout(experiment, _args, { viewer, services, clock }) {
    if (!canReadExperiments(viewer, experiment.programId)) throw forbidden('You can see only your own program’s experiments');
    if (experiment.storedStatus === 'DRAFT') return null;
    return services.readouts.readout(experiment, clock.now());
  },
};

export const ProgramHoldout: ProgramHoldoutResolvers = {
  members: (holdout, _args, { services }) => services.experiments.holdoutMembers(holdout),
};
