import { toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers } from '../generated/resolvers';

/** Thin: each mutation hands its input to a service and shapes the payload. */
export const Mutation: MutationResolvers = {
  createProgram: (_p, { input }, { viewer, services }) => toPayload('program', () => services.programs.create(viewer, input)),
  updateProgram: (_p, { input }, { viewer, services }) => toPayload('program', () => services.programs.update(viewer, input)),
  createTier: (_p, { input: { programId, ...tier } }, { viewer, services }) =>
    toPayload('tier', () => services.programs.createTier(viewer, programId, tier)),
  updateTier: (_p, { input: { id, ...tier } }, { viewer, services }) => toPayload('tier', () => services.programs.updateTier(viewer, id, tier)),
  enrollMember: (_p, { input }, { viewer, services }) => toPayload('member', () => services.enrolment.enroll(viewer, input)),
  updateMemberProfile: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.updateProfile(viewer, input.memberId, input.profile)),
  addMemberIdentifier: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.addIdentifier(viewer, input.memberId, input.identifier)),
  verifyMemberIdentifier: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.verifyIdentifier(viewer, input.memberId, input.identifier, input.code)),
  removeMemberIdentifier: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.removeIdentifier(viewer, input.memberId, input.identifier)),
  changeMemberStatus: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.changeStatus(viewer, input.memberId, input.status, input.reason)),
  assignMemberTier: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.assignTier(viewer, input.memberId, input.tierId ?? null, input.reason, input.until ?? null)),
  setConsents: (_p, { input }, { viewer, services }) =>
    toPayload('member', () => services.members.setConsents(viewer, input.memberId, input.consents, input.source)),
  createMemberGroup: (_p, { input }, { viewer, services }) => toPayload('group', () => services.groups.create(viewer, input)),
  addMemberToGroup: (_p, { input }, { viewer, services }) => toPayload('group', () => services.groups.addMember(viewer, input.groupId, input.memberId)),
  removeMemberFromGroup: (_p, { input }, { viewer, services }) =>
    toPayload('group', () => services.groups.removeMember(viewer, input.groupId, input.memberId)),
  configureTierRules: (_p, { input: { programId, ...rules } }, { viewer, services, loaders }) =>
    toPayload('program', async () => (await services.settings.configureTiers(viewer, programId, rules), loaders.programById.load(programId))),
  configureReferrals: (_p, { input: { programId, ...rules } }, { viewer, services, loaders }) =>
    toPayload('program', async () => (await services.settings.configureReferrals(viewer, programId, { trigger: rules.trigger ?? null, referrerBonus: rules.referrerBonus, refereeBonus: rules.refereeBonus }), loaders.programById.load(programId))),
};
