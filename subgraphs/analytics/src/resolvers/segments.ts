import { badUserInput, forbidden, isUuid, rethrowInput, toPayload } from '@loyalty-graph/shared';
import type { MutationResolvers, ProgramResolvers, SegmentResolvers } from '../generated/resolvers';
import { canReadSegments } from '../domain/policy';
import type { Segments } from '../services/segments';

/** Program's segment fields (joined with program.ts's in resolvers/index.ts). */
export const ProgramSegments: Pick<ProgramResolvers, 'segments' | 'membersSeeSegments'> = {
  async segments(program, { includeArchived }, { viewer, services }) {
    if (!canReadSegments(viewer, program.id)) throw forbidden('You can see only your own program’s segments');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.segments.byProgram(program.id, includeArchived ?? false);
  },
  async membersSeeSegments(program, _args, { viewer, services }) {
    if (!canReadSegments(viewer, program.id)) throw forbidden('You can see only your own program’s settings');
    if (!isUuid(program.id)) throw badUserInput('The program id is not an id');
    return services.segments.membersSeeSegments(program.id);
  },
};

export const Segment: SegmentResolvers = {
  // Reached from Program.segments (already checked) or Member.segments (a member sees no rules or profile: @access).
  rules(segment, _args, { viewer }) {
    if (!canReadSegments(viewer, segment.programId)) throw forbidden('Only the program’s staff see a segment’s rules');
    return segment.rules;
  },
  profile(segment, _args, { viewer, services }) {
    if (!canReadSegments(viewer, segment.programId)) throw forbidden('Only the program’s staff see a segment’s profile');
    return services.segments.profile(segment.id);
  },
};

/** Thin: the service validates, checks the policy and writes; refusals of the world become userErrors. */
export const SegmentMutations: Pick<MutationResolvers, 'createSegment' | 'updateSegment' | 'archiveSegment' | 'setMembersSeeSegments'> = {
  createSegment: (_p, { input }, { viewer, services }) => withSegment(() => services.segments.create(viewer, input), services.segments),
  updateSegment: (_p, { input }, { viewer, services }) => withSegment(() => services.segments.update(viewer, input), services.segments),
  archiveSegment: (_p, { input }, { viewer, services }) => withSegment(() => services.segments.archive(viewer, input), services.segments),
  setMembersSeeSegments: (_p, { input }, { viewer, services }) => rethrowInput(() => services.segments.setMembersSeeSegments(viewer, input)),
};

async function withSegment(run: () => Promise<{ segmentId: string }>, segments: Segments) {
  const { result, userErrors } = await toPayload('result', run);
  return { segment: result ? await segments.byId(result.segmentId) : null, userErrors };
}
