import { z } from 'zod';
import { defineContract, defineEvent } from '../events/contract';

const id = z.uuid();
const instant = z.iso.datetime({ offset: true });
const memberStatus = z.enum(['ACTIVE', 'SUSPENDED', 'CLOSED']);

export const CONSENT_CHANNELS = ['EMAIL', 'SMS', 'PUSH', 'POST'] as const;
export const CONSENT_PURPOSES = ['MARKETING', 'PROFILING', 'PARTNER_SHARING', 'PARTNER_MARKETING'] as const;

export const TIER_CHANGE_REASONS = ['QUALIFIED', 'PERIOD_END', 'GRACE_ENDED', 'MANUAL'] as const;
export type TierChangeReason = (typeof TIER_CHANGE_REASONS)[number];

/**
 * What the members subgraph tells others. Every event's aggregate is the member it is about, so a
 * consumer sees one member's facts in the order they happened.
 */
export const membersEvents = defineContract('members', {
  MemberEnrolled: defineEvent({
    version: 1,
    emittedWhen: 'a member enrolled (self-service, hotline or partner)',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      channel: z.enum(['SELF', 'AGENT', 'PARTNER']),
      referralId: id.nullable().describe('the referral this enrolment was made under; null without a referral code'),
      enrolledAt: instant,
      tierId: id
        .nullable()
        .optional()
        .describe('the tier the member starts in (null when the program has no entry tier); absent on events written before it was carried'),
      subject: z
        .string()
        .nullable()
        .optional()
        .describe(
          "the identity provider's login subject of a member who enrolled themself (unique within the program; null when staff enrolled them): how other subgraphs know who a member token's subject is (docs/identity.md); absent on events written before it was carried",
        ),
      partnerId: id
        .nullable()
        .optional()
        .describe('the partner a member enrolled through (channel PARTNER); null otherwise; absent on events written before it was carried'),
    }),
  }),
  MemberStatusChanged: defineEvent({
    version: 1,
    emittedWhen: 'a member was suspended, reactivated or closed (`changeMemberStatus`)',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      fromStatus: memberStatus,
      toStatus: memberStatus.describe('only ACTIVE members earn and spend'),
      reason: z.string(),
      changedAt: instant,
    }),
  }),
  TierChanged: defineEvent({
    version: 1,
    emittedWhen: "a member's tier changed: automatically (qualified, period end, grace ended) or by an agent",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      fromTierId: id.nullable(),
      toTierId: id.nullable(),
      direction: z.enum(['UP', 'DOWN']).describe('by rank; manual changes say MANUAL in `reason`'),
      reason: z.enum(TIER_CHANGE_REASONS),
      changedAt: instant,
    }),
  }),
  MemberJoinedGroup: defineEvent({
    version: 1,
    emittedWhen: 'a member was added to a member group (`addMemberToGroup`); not emitted when they were in it already',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      groupId: id.describe('the group they joined'),
      groupIds: z
        .array(id)
        .describe("every group the member is in after the change, this one included (sorted): a consumer can take the whole set and need not have seen the member's earlier group events"),
      at: instant,
    }),
  }),
  MemberLeftGroup: defineEvent({
    version: 1,
    emittedWhen: 'a member was removed from a member group (`removeMemberFromGroup`); not emitted when they were not in it',
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      groupId: id.describe('the group they left'),
      groupIds: z.array(id).describe('every group the member is still in after the change (sorted; empty when none)'),
      at: instant,
    }),
  }),
  ConsentsChanged: defineEvent({
    version: 1,
    emittedWhen:
      "a member's consent decisions changed (`setConsents`, or enrolment with consents); not emitted when a call changed nothing. Carries the member's whole current set, so a consumer needs no earlier consent event",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      consents: z
        .array(z.object({ channel: z.enum(CONSENT_CHANNELS), purpose: z.enum(CONSENT_PURPOSES), granted: z.boolean() }))
        .describe('every decision the member has on record after the change (a channel and purpose never decided is absent, which means not granted)'),
      changedAt: instant,
    }),
  }),
  // Data minimisation: only the profile fields segments may use. Names (and anything else of the
  // profile) never leave members; a consumer has no purpose for them.
  MemberProfileChanged: defineEvent({
    version: 1,
    emittedWhen:
      "a member's birth date or preferred language changed (`updateMemberProfile`, or enrolment giving either); not emitted when only other profile fields (names) changed. Carries both fields' current values, so a consumer needs no earlier profile event",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id,
      birthDate: z.iso.date().nullable().describe('ISO date of birth (e.g. 1990-04-01); null when the member has not given it or removed it'),
      preferredLanguage: z.string().nullable().describe('BCP 47 language tag as the member gave it (e.g. pl, en-GB); null when not given or removed'),
      changedAt: instant,
    }),
  }),
  ReferralQualified: defineEvent({
    version: 1,
    emittedWhen:
      'a referral met the program\'s trigger (the friend enrolled, or made a first purchase); emitted once per referral (aggregate: the referred friend)',
    aggregateType: 'Member',
    aggregateId: (p) => p.refereeId,
    payload: z.object({
      programId: id,
      referralId: id,
      referrerId: id,
      refereeId: id,
      referrerBonus: z.number().int().nonnegative(),
      refereeBonus: z.number().int().nonnegative(),
      qualifiedAt: instant,
    }),
  }),
  IdentifierVerificationRequested: defineEvent({
    version: 1,
    emittedWhen:
      "a member added an email or phone themself (`addMemberIdentifier`, or enrolling themself): the program's messaging system sends `code` to `value`; the member confirms with `verifyMemberIdentifier`. Not emitted when another member already holds the identifier (see IdentifierClaimAttempted)",
    aggregateType: 'Member',
    aggregateId: (p) => p.memberId,
    payload: z.object({
      programId: id,
      memberId: id.describe('the member who asked'),
      type: z.enum(['EMAIL', 'PHONE']),
      value: z.string().describe('normalised: lower-case email, E.164 phone'),
      code: z.string().regex(/^\d{6}$/).describe('six digits, to send to `value` and to no one else; members stores only its hash'),
      expiresAt: instant.describe('the code is refused from then on'),
    }),
  }),
  IdentifierClaimAttempted: defineEvent({
    version: 1,
    emittedWhen:
      "a member asked to add an email or phone that another member of the program holds: no code is sent (the request can never complete) and the holder may be told, at the identifier they hold, that someone tried (aggregate: the holder)",
    aggregateType: 'Member',
    aggregateId: (p) => p.holderId,
    payload: z.object({
      programId: id,
      holderId: id.describe('the member who holds the identifier; who asked is not said'),
      type: z.enum(['EMAIL', 'PHONE']),
      value: z.string(),
      attemptedAt: instant,
    }),
  }),
});

export type MembersEvents = typeof membersEvents;
