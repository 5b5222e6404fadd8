import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';

/** Thin: the services check access and input and write; refusals by business rules become userErrors. */
export const Mutation: MutationResolvers = {
  async configureAnalytics(_p, { input }, { viewer, services }) {
    const { settings, userErrors } = await toPayload('settings', () => services.analyticsSettings.configure(viewer, input));
    return { settings, userErrors };
  },
  async defineSuccessCriterion(_p, { input }, { viewer, services }) {
    const { criterion, userErrors } = await toPayload('criterion', () => services.successCriteria.define(viewer, input));
    return { criterion, userErrors };
  },
};
