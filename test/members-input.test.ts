import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller, type GraphQLResponse } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Bad input gets a precise answer and changes nothing; good input leaves the history an agent on
 * the hotline relies on. Everything goes through the gateway.
 */

let graph: TestSupergraph;
let operator: Caller;

const DETAIL = `
  id status statusReason firstName birthDate enrolledAt
  identifiers { type value }
  tier { id name }
  tierHistory { fromTier { name } toTier { name } reason source changedBy changedAt }
  statusHistory { fromStatus toStatus reason changedBy changedAt }
  consents { channel purpose granted source updatedAt }
  consentHistory { channel purpose granted source changedBy changedAt }
  groups { id name }
`;
const PAYLOAD = `member { ${DETAIL} } userErrors { code field message }`;

const Q = {
  createProgram: `mutation($name: String!, $status: ProgramStatus) {
    createProgram(input: { name: $name, type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: $status }) {
      program { id } userErrors { code }
    }
  }`,
  createTier: `mutation($input: CreateTierInput!) { createTier(input: $input) { tier { id name } userErrors { code } } }`,
  enroll: `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { ${PAYLOAD} } }`,
  member: `query($id: ID!) { member(id: $id) { ${DETAIL} } }`,
  members: `query($programId: ID!, $first: Int, $after: String) {
    members(programId: $programId, first: $first, after: $after) { nodes { id enrolledAt groups { name } } pageInfo { hasNextPage endCursor } }
  }`,
  lookup: `query($programId: ID!, $type: IdentifierType!, $value: String!) {
    memberByIdentifier(programId: $programId, type: $type, value: $value) { id status tier { name } }
  }`,
  changeStatus: `mutation($input: ChangeMemberStatusInput!) { changeMemberStatus(input: $input) { ${PAYLOAD} } }`,
  assignTier: `mutation($input: AssignMemberTierInput!) { assignMemberTier(input: $input) { ${PAYLOAD} } }`,
  setConsents: `mutation($input: SetConsentsInput!) { setConsents(input: $input) { ${PAYLOAD} } }`,
  addIdentifier: `mutation($input: AddMemberIdentifierInput!) { addMemberIdentifier(input: $input) { ${PAYLOAD} } }`,
  removeIdentifier: `mutation($input: RemoveMemberIdentifierInput!) { removeMemberIdentifier(input: $input) { ${PAYLOAD} } }`,
  createGroup: `mutation($input: CreateMemberGroupInput!) { createMemberGroup(input: $input) { group { id name } userErrors { code field } } }`,
  addToGroup: `mutation($input: GroupMembershipInput!) { addMemberToGroup(input: $input) { group { id name } userErrors { code field } } }`,
  groupMembers: `query($id: ID!) { memberGroup(id: $id) { name members(first: 100) { nodes { id } } } }`,
};

interface Member {
  id: string;
  status: string;
  statusReason: string | null;
  firstName: string | null;
  enrolledAt: string;
  identifiers: { type: string; value: string }[];
  tier: { id: string; name: string } | null;
  tierHistory: Record<string, unknown>[];
  statusHistory: Record<string, unknown>[];
  consents: Record<string, unknown>[];
  consentHistory: Record<string, unknown>[];
  groups: { id: string; name: string }[];
}
interface UserError {
  code: string;
  field: string | null;
  message: string;
}
type MemberPayload = { member: Member | null; userErrors: UserError[] };
type Identifier = { type: 'CARD' | 'EMAIL' | 'PHONE'; value: string };

let programCounter = 0;
async function createProgram(status: 'ACTIVE' | 'DRAFT' = 'ACTIVE'): Promise<string> {
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(Q.createProgram, { name: `Program ${++programCounter}`, status });
  return createProgram.program.id;
}

let emailCounter = 0;
const freshEmail = () => `member${++emailCounter}@example.com`;

function enrolAttempt(by: Caller, input: Record<string, unknown>): Promise<GraphQLResponse<{ enrollMember: MemberPayload }>> {
  return by.send<{ enrollMember: MemberPayload }>(Q.enroll, { input });
}

/** Enrols a member (failing the test if that does not work). */
async function enrol(by: Caller, programId: string, identifiers: Identifier[] = [{ type: 'EMAIL', value: freshEmail() }], extra: Record<string, unknown> = {}): Promise<Member> {
  const { enrollMember } = await by.data<{ enrollMember: MemberPayload }>(Q.enroll, { input: { programId, identifiers, ...extra } });
  expect(enrollMember.userErrors).toEqual([]);
  return enrollMember.member!;
}

/** Runs a member mutation and returns its payload (GraphQL errors fail the test). */
async function mutate(by: Caller, query: string, input: Record<string, unknown>): Promise<MemberPayload> {
  const data = await by.data<Record<string, MemberPayload>>(query, { input });
  return Object.values(data)[0]!;
}

async function readMember(id: string): Promise<Member> {
  return (await operator.data<{ member: Member }>(Q.member, { id })).member;
}

async function memberCount(programId: string): Promise<number> {
  const { members } = await operator.data<{ members: { nodes: unknown[] } }>(Q.members, { programId, first: 100 });
  return members.nodes.length;
}

function expectBadInput(res: GraphQLResponse, field: string): void {
  expect(errorCodes(res), JSON.stringify(res.errors)).toEqual(['BAD_USER_INPUT']);
  expect(res.errors?.[0]?.extensions?.['field']).toBe(field);
}

function expectUserError(payload: MemberPayload, code: string, field: string | null): void {
  expect(payload.member).toBeNull();
  expect(payload.userErrors).toEqual([{ code, field, message: expect.any(String) }]);
}

beforeAll(async () => {
  // One operator enrols, edits and lists members back to back, dozens a second: no agent works
  // that fast, so this file raises the staff budget (docs/limits.md) instead of waiting for it.
  graph = await startSupergraph({ gateway: { limits: { budgets: { staff: { capacity: 100_000, restoreRate: 10_000 } } } } });
  operator = await graph.asOperator();
});
afterAll(() => graph?.stop());

describe('enrolment with malformed input', () => {
  let programId: string;
  let agent: Caller;
  beforeAll(async () => {
    programId = await createProgram();
    agent = await graph.asStaff(programId, ['AGENT']);
  });

  const tomorrow = () => new Date(graph.clock.now().getTime() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
  const cases: [string, () => Record<string, unknown>, string][] = [
    ['an invalid email', () => ({ identifiers: [{ type: 'EMAIL', value: 'ann@example' }] }), 'identifiers.0.value'],
    ['a phone number without country code', () => ({ identifiers: [{ type: 'PHONE', value: '501 234 567' }] }), 'identifiers.0.value'],
    ['a card number shorter than 6 characters', () => ({ identifiers: [{ type: 'EMAIL', value: freshEmail() }, { type: 'CARD', value: 'AB123' }] }), 'identifiers.1.value'],
    [
      'the same identifier twice in one request',
      () => ({ identifiers: [{ type: 'EMAIL', value: 'twice@example.com' }, { type: 'CARD', value: 'CARD123456' }, { type: 'EMAIL', value: 'TWICE@example.com' }] }),
      'identifiers.2.value',
    ],
    ['a first name of 101 characters', () => ({ identifiers: [{ type: 'EMAIL', value: freshEmail() }], profile: { firstName: 'x'.repeat(101) } }), 'profile.firstName'],
    ['a birth date in the future', () => ({ identifiers: [{ type: 'EMAIL', value: freshEmail() }], profile: { birthDate: tomorrow() } }), 'profile.birthDate'],
    ['a birth date that does not exist', () => ({ identifiers: [{ type: 'EMAIL', value: freshEmail() }], profile: { birthDate: '2001-02-30' } }), 'profile.birthDate'],
  ];

  it.each(cases)('is refused as BAD_USER_INPUT naming the field when it has %s, and enrols nobody', async (_what, input, field) => {
    const before = await memberCount(programId);
    expectBadInput(await enrolAttempt(agent, { programId, ...input() }), field);
    expect(await memberCount(programId)).toBe(before);
  });

  it('accepts a first name of exactly 100 characters (the limit is not off by one)', async () => {
    const member = await enrol(agent, programId, undefined, { profile: { firstName: 'y'.repeat(100) } });
    expect(member.firstName).toHaveLength(100);
  });
});

/**
 * As staff see it: they enrol and add identifiers verified, and may be told one is taken (they can
 * look any member of their program up anyway). What a member adding one themself sees, which
 * never says whether it is taken, is test/identifier-verification.test.ts.
 */
describe('identifiers already in use, added by staff', () => {
  it('refuses an email another member of the program has, whatever its letter case, and enrols nobody', async () => {
    const programId = await createProgram();
    const agent = await graph.asStaff(programId, ['AGENT']);
    await enrol(agent, programId, [{ type: 'EMAIL', value: 'Ann@Example.com' }]);
    for (const value of ['Ann@Example.com', 'ann@example.com', '  ANN@EXAMPLE.COM ']) {
      const { data } = await enrolAttempt(agent, { programId, identifiers: [{ type: 'EMAIL', value }] });
      expectUserError(data!.enrollMember, 'IDENTIFIER_TAKEN', 'identifiers');
    }
    expect(await memberCount(programId)).toBe(1);
  });

  it('lets another program use the same email: identifiers are unique per program', async () => {
    const [first, second] = [await createProgram(), await createProgram()];
    await enrol(operator, first, [{ type: 'EMAIL', value: 'shared@example.com' }]);
    await enrol(operator, second, [{ type: 'EMAIL', value: 'shared@example.com' }]);
    expect([await memberCount(first), await memberCount(second)]).toEqual([1, 1]);
  });

  it('refuses adding an identifier that belongs to another member and keeps the member’s identifiers', async () => {
    const programId = await createProgram();
    await enrol(operator, programId, [{ type: 'CARD', value: 'TAKEN0001' }]);
    const member = await enrol(operator, programId);
    const payload = await mutate(operator, Q.addIdentifier, { memberId: member.id, identifier: { type: 'CARD', value: 'taken 0001' } });
    expectUserError(payload, 'IDENTIFIER_TAKEN', 'identifiers');
    expect((await readMember(member.id)).identifiers).toEqual(member.identifiers);
  });
});

describe('enrolment in a program that cannot take members', () => {
  it('reports PROGRAM_NOT_FOUND for a program that does not exist', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const { data } = await enrolAttempt(operator, { programId: unknown, identifiers: [{ type: 'EMAIL', value: freshEmail() }] });
    expectUserError(data!.enrollMember, 'PROGRAM_NOT_FOUND', 'programId');
    expect(await memberCount(unknown)).toBe(0);
  });

  it('reports PROGRAM_NOT_ACCEPTING for a program still in DRAFT', async () => {
    const programId = await createProgram('DRAFT');
    const { data } = await enrolAttempt(operator, { programId, identifiers: [{ type: 'EMAIL', value: freshEmail() }] });
    expectUserError(data!.enrollMember, 'PROGRAM_NOT_ACCEPTING', 'programId');
    expect(await memberCount(programId)).toBe(0);
  });
});

describe('member status', () => {
  let programId: string;
  let agent: Caller;
  const agentSubject = 'agent-status';
  beforeAll(async () => {
    programId = await createProgram();
    agent = await graph.asStaff(programId, ['AGENT'], agentSubject);
  });

  it('refuses to reopen a closed membership and leaves it closed with its history', async () => {
    const member = await enrol(agent, programId);
    await mutate(agent, Q.changeStatus, { memberId: member.id, status: 'CLOSED', reason: 'Customer request' });
    const closed = await readMember(member.id);
    const payload = await mutate(agent, Q.changeStatus, { memberId: member.id, status: 'ACTIVE', reason: 'Changed their mind' });
    expectUserError(payload, 'INVALID_STATUS_TRANSITION', 'status');
    expect(await readMember(member.id)).toEqual(closed);
  });

  it('refuses to set the status a member already has, recording nothing', async () => {
    const member = await enrol(agent, programId);
    const payload = await mutate(agent, Q.changeStatus, { memberId: member.id, status: 'ACTIVE', reason: 'Just checking' });
    expectUserError(payload, 'INVALID_STATUS_TRANSITION', 'status');
    expect((await readMember(member.id)).statusHistory).toEqual(member.statusHistory);
  });

  it('records every status change with its reason and who made it, newest first', async () => {
    const member = await enrol(agent, programId);
    const enrolledAt = graph.clock.now().toISOString();
    graph.clock.advance(60_000);
    const suspended = await mutate(agent, Q.changeStatus, { memberId: member.id, status: 'SUSPENDED', reason: 'Suspected card fraud' });
    expect(suspended.member).toMatchObject({ status: 'SUSPENDED', statusReason: 'Suspected card fraud' });
    const suspendedAt = graph.clock.now().toISOString();
    graph.clock.advance(60_000);
    const reactivated = await mutate(agent, Q.changeStatus, { memberId: member.id, status: 'ACTIVE', reason: 'Fraud ruled out' });

    expect(reactivated.member).toMatchObject({ status: 'ACTIVE', statusReason: null });
    expect((await readMember(member.id)).statusHistory).toEqual([
      { fromStatus: 'SUSPENDED', toStatus: 'ACTIVE', reason: 'Fraud ruled out', changedBy: agentSubject, changedAt: graph.clock.now().toISOString() },
      { fromStatus: 'ACTIVE', toStatus: 'SUSPENDED', reason: 'Suspected card fraud', changedBy: agentSubject, changedAt: suspendedAt },
      { fromStatus: null, toStatus: 'ACTIVE', reason: 'Enrolled', changedBy: agentSubject, changedAt: enrolledAt },
    ]);
  });
});

describe('removing identifiers', () => {
  it('refuses to remove a member’s last identifier, but removes one of several', async () => {
    const programId = await createProgram();
    const member = await enrol(operator, programId, [{ type: 'EMAIL', value: 'only@example.com' }]);
    const refused = await mutate(operator, Q.removeIdentifier, { memberId: member.id, identifier: { type: 'EMAIL', value: 'only@example.com' } });
    expectUserError(refused, 'LAST_IDENTIFIER', 'identifier');
    expect((await readMember(member.id)).identifiers).toEqual([{ type: 'EMAIL', value: 'only@example.com' }]);

    await mutate(operator, Q.addIdentifier, { memberId: member.id, identifier: { type: 'PHONE', value: '+48 600 100 200' } });
    const removed = await mutate(operator, Q.removeIdentifier, { memberId: member.id, identifier: { type: 'EMAIL', value: 'ONLY@example.com' } });
    expect(removed.userErrors).toEqual([]);
    expect((await readMember(member.id)).identifiers).toEqual([{ type: 'PHONE', value: '+48600100200' }]);
  });
});

describe('member lists', () => {
  let programId: string;
  let enrolled: string[];
  beforeAll(async () => {
    programId = await createProgram();
    enrolled = [];
    for (let i = 0; i < 25; i++) {
      // Every other member shares an enrolment instant with the previous one, so ties must be broken too.
      if (i % 2 === 0) graph.clock.advance(1000);
      enrolled.push((await enrol(operator, programId)).id);
    }
  });

  type Page = { members: { nodes: { id: string; enrolledAt: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

  it('walks every member exactly once, newest enrolment first, ten at a time', async () => {
    const seen: { id: string; enrolledAt: string }[] = [];
    const pages: { size: number; hasNextPage: boolean }[] = [];
    let after: string | null = null;
    do {
      const { members }: Page = await operator.data<Page>(Q.members, { programId, first: 10, after });
      seen.push(...members.nodes);
      pages.push({ size: members.nodes.length, hasNextPage: members.pageInfo.hasNextPage });
      after = members.pageInfo.hasNextPage ? members.pageInfo.endCursor : null;
    } while (after);

    expect(pages).toEqual([
      { size: 10, hasNextPage: true },
      { size: 10, hasNextPage: true },
      { size: 5, hasNextPage: false },
    ]);
    const ids = seen.map((m) => m.id);
    expect(new Set(ids).size).toBe(25);
    expect([...ids].sort()).toEqual([...enrolled].sort());
    const times = seen.map((m) => m.enrolledAt);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('refuses pages larger than 100 with BAD_USER_INPUT on first', async () => {
    expectBadInput(await operator.send(Q.members, { programId, first: 101 }), 'first');
    expectBadInput(await operator.send(Q.members, { programId, first: 0 }), 'first');
  });

  it('refuses a cursor the list did not produce with BAD_USER_INPUT on after', async () => {
    const forged = Buffer.from(JSON.stringify(['yesterday', 'not-an-id'])).toString('base64url');
    for (const after of ['garbage!!', 'eyJub3QiOiJhIGN1cnNvciJ9', forged]) {
      expectBadInput(await operator.send(Q.members, { programId, first: 10, after }), 'after');
    }
  });
});

describe('consents', () => {
  it('enrols a member who gives no consent at all; nothing counts as granted', async () => {
    const programId = await createProgram();
    const member = await enrol(await graph.asMember(programId, null, 'no-consent'), programId);
    expect(member).toMatchObject({ status: 'ACTIVE', consents: [], consentHistory: [] });
  });

  it('keeps every consent decision with its source, author and time, and shows the latest per channel and purpose', async () => {
    const programId = await createProgram();
    const agent = await graph.asStaff(programId, ['AGENT'], 'agent-consents');
    const enrolledAt = graph.clock.now().toISOString();
    const member = await enrol(await graph.asMember(programId, null, 'consenting-member'), programId, undefined, {
      consents: [{ channel: 'EMAIL', purpose: 'MARKETING', granted: true }],
    });
    expect(member.consents).toEqual([{ channel: 'EMAIL', purpose: 'MARKETING', granted: true, source: 'ENROLMENT', updatedAt: enrolledAt }]);

    graph.clock.advance(24 * 60 * 60 * 1000);
    const changedAt = graph.clock.now().toISOString();
    const payload = await mutate(agent, Q.setConsents, {
      memberId: member.id,
      source: 'HOTLINE',
      consents: [
        { channel: 'EMAIL', purpose: 'MARKETING', granted: false },
        { channel: 'SMS', purpose: 'MARKETING', granted: true },
      ],
    });
    expect(payload.userErrors).toEqual([]);

    const after = await readMember(member.id);
    expect(after.consents).toEqual([
      { channel: 'EMAIL', purpose: 'MARKETING', granted: false, source: 'HOTLINE', updatedAt: changedAt },
      { channel: 'SMS', purpose: 'MARKETING', granted: true, source: 'HOTLINE', updatedAt: changedAt },
    ]);
    expect(after.consentHistory).toHaveLength(3);
    expect(after.consentHistory.slice(0, 2)).toEqual(
      expect.arrayContaining([
        { channel: 'EMAIL', purpose: 'MARKETING', granted: false, source: 'HOTLINE', changedBy: 'agent-consents', changedAt },
        { channel: 'SMS', purpose: 'MARKETING', granted: true, source: 'HOTLINE', changedBy: 'agent-consents', changedAt },
      ]),
    );
    expect(after.consentHistory[2]).toEqual({
      channel: 'EMAIL',
      purpose: 'MARKETING',
      granted: true,
      source: 'ENROLMENT',
      changedBy: 'consenting-member',
      changedAt: enrolledAt,
    });
  });

  it('refuses the same channel and purpose twice in one request and records nothing', async () => {
    const programId = await createProgram();
    const member = await enrol(operator, programId);
    const res = await operator.send(Q.setConsents, {
      input: {
        memberId: member.id,
        source: 'MEMBER_PORTAL',
        consents: [
          { channel: 'PUSH', purpose: 'PROFILING', granted: true },
          { channel: 'PUSH', purpose: 'PROFILING', granted: false },
        ],
      },
    });
    expectBadInput(res, 'consents.1');
    expect(await readMember(member.id)).toMatchObject({ consents: [], consentHistory: [] });
  });
});

describe('tiers', () => {
  it('records a manual tier assignment with its reason, source MANUAL and the agent who made it', async () => {
    const programId = await createProgram();
    const admin = await graph.asStaff(programId, ['ADMIN']);
    const tierIds: Record<string, string> = {};
    for (const [name, rank, qualifyingThreshold] of [
      ['Bronze', 0, 0],
      ['Silver', 1, 1000],
    ] as const) {
      const { createTier } = await admin.data<{ createTier: { tier: { id: string } } }>(Q.createTier, { input: { programId, name, rank, qualifyingThreshold } });
      tierIds[name] = createTier.tier.id;
    }
    const member = await enrol(operator, programId);
    expect(member.tier).toEqual({ id: tierIds['Bronze'], name: 'Bronze' });
    expect(member.tierHistory).toEqual([]);

    const agent = await graph.asStaff(programId, ['AGENT'], 'agent-tiers');
    graph.clock.advance(5000);
    const payload = await mutate(agent, Q.assignTier, { memberId: member.id, tierId: tierIds['Silver'], reason: 'Goodwill after a complaint' });
    expect(payload.userErrors).toEqual([]);
    expect(await readMember(member.id)).toMatchObject({
      tier: { id: tierIds['Silver'], name: 'Silver' },
      tierHistory: [
        {
          fromTier: { name: 'Bronze' },
          toTier: { name: 'Silver' },
          reason: 'Goodwill after a complaint',
          source: 'MANUAL',
          changedBy: 'agent-tiers',
          changedAt: graph.clock.now().toISOString(),
        },
      ],
    });
  });
});

describe('memberByIdentifier', () => {
  let programId: string;
  let agent: Caller;
  let member: Member;
  beforeAll(async () => {
    programId = await createProgram();
    await operator.data(Q.createTier, { input: { programId, name: 'Blue', rank: 0, qualifyingThreshold: 0 } });
    agent = await graph.asStaff(programId, ['AGENT']);
    member = await enrol(agent, programId, [
      { type: 'EMAIL', value: 'eva@example.com' },
      { type: 'PHONE', value: '+48501234567' },
    ]);
  });

  const lookup = (type: string, value: string) => agent.data<{ memberByIdentifier: unknown }>(Q.lookup, { programId, type, value });

  it('finds a member by phone however it is typed, and by email in capitals, with tier and status', async () => {
    const expected = { memberByIdentifier: { id: member.id, status: 'ACTIVE', tier: { name: 'Blue' } } };
    expect(await lookup('PHONE', '+48 501 234 567')).toEqual(expected);
    expect(await lookup('PHONE', '0048 501-234-567')).toEqual(expected);
    expect(await lookup('EMAIL', 'EVA@EXAMPLE.COM')).toEqual(expected);
  });

  it('returns null for an identifier nobody in the program has', async () => {
    expect(await lookup('EMAIL', 'nobody@example.com')).toEqual({ memberByIdentifier: null });
    expect(await lookup('CARD', 'EVA0EXAMPLE')).toEqual({ memberByIdentifier: null });
  });

  it('refuses a malformed identifier with BAD_USER_INPUT on value', async () => {
    expectBadInput(await agent.send(Q.lookup, { programId, type: 'PHONE', value: 'call me' }), 'value');
  });
});

describe('member groups', () => {
  type GroupPayload = { group: { id: string; name: string } | null; userErrors: { code: string; field: string | null }[] };
  const groupOp = async (by: Caller, query: string, input: Record<string, unknown>) => Object.values(await by.data<Record<string, GroupPayload>>(query, { input }))[0]!;

  it('lists a group’s members and shows the group on each member, also when listed together', async () => {
    const programId = await createProgram();
    const agent = await graph.asStaff(programId, ['AGENT']);
    const { group } = await groupOp(agent, Q.createGroup, { programId, type: 'HOUSEHOLD', name: 'The Hansens' });
    const other = (await groupOp(agent, Q.createGroup, { programId, type: 'COMPANY', name: 'Acme' })).group!;
    const [anna, lars, loner] = [await enrol(agent, programId), await enrol(agent, programId), await enrol(agent, programId)];
    for (const member of [anna, lars]) {
      graph.clock.advance(1000); // "oldest membership first" needs distinct join times
      expect(await groupOp(agent, Q.addToGroup, { groupId: group!.id, memberId: member.id })).toEqual({ group: { id: group!.id, name: 'The Hansens' }, userErrors: [] });
    }
    await groupOp(agent, Q.addToGroup, { groupId: other.id, memberId: lars.id });

    const { memberGroup } = await agent.data<{ memberGroup: { members: { nodes: { id: string }[] } } }>(Q.groupMembers, { id: group!.id });
    expect(memberGroup.members.nodes.map((m) => m.id)).toEqual([anna.id, lars.id]);
    expect((await readMember(anna.id)).groups).toEqual([{ id: group!.id, name: 'The Hansens' }]);

    // One request, one batched lookup for all three members: each must get exactly their own groups.
    const { members } = await agent.data<{ members: { nodes: { id: string; groups: { name: string }[] }[] } }>(Q.members, { programId, first: 10 });
    const groupsOf = Object.fromEntries(members.nodes.map((m) => [m.id, m.groups.map((g) => g.name)]));
    expect(groupsOf).toEqual({ [anna.id]: ['The Hansens'], [lars.id]: ['Acme', 'The Hansens'], [loner.id]: [] });
  });

  it('refuses to add a member of another program (MEMBER_NOT_FOUND) and leaves the group as it was', async () => {
    const programId = await createProgram();
    const elsewhere = await createProgram();
    const agent = await graph.asStaff(programId, ['AGENT']);
    const { group } = await groupOp(agent, Q.createGroup, { programId, type: 'AFFINITY', name: 'Runners' });
    const stranger = await enrol(operator, elsewhere);

    expect(await groupOp(agent, Q.addToGroup, { groupId: group!.id, memberId: stranger.id })).toEqual({
      group: null,
      userErrors: [{ code: 'MEMBER_NOT_FOUND', field: 'memberId' }],
    });
    expect(await agent.data(Q.groupMembers, { id: group!.id })).toEqual({ memberGroup: { name: 'Runners', members: { nodes: [] } } });
    expect((await readMember(stranger.id)).groups).toEqual([]);
  });
});

describe('malformed ids', () => {
  it('are refused as BAD_USER_INPUT naming the field, never as an internal error', async () => {
    const operator = await graph.asOperator();
    const byArgument = await operator.send('{ member(id: "not-a-uuid") { id } }');
    expect(errorCodes(byArgument)).toEqual(['BAD_USER_INPUT']);
    expect(byArgument.errors?.[0]?.extensions?.['field']).toBe('id');

    const inInput = await operator.send(
      'mutation { changeMemberStatus(input: { memberId: "42", status: SUSPENDED, reason: "x" }) { member { id } } }',
    );
    expect(errorCodes(inInput)).toEqual(['BAD_USER_INPUT']);
    expect(inInput.errors?.[0]?.extensions?.['field']).toBe('memberId');
  });
});

describe('a closed membership', () => {
  it('cannot be edited any more: profile, identifiers and consents are refused', async () => {
    const operator = await graph.asOperator();
    const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
      `mutation { createProgram(input: { name: "Closing", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
    );
    const agent = await graph.asStaff(createProgram.program.id, ['AGENT']);
    const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "leaving@example.com" }] }) { member { id } } }`,
      { p: createProgram.program.id },
    );
    const id = enrollMember.member.id;
    await agent.data(`mutation($id: ID!) { changeMemberStatus(input: { memberId: $id, status: CLOSED, reason: "Moved abroad" }) { member { status } } }`, { id });
    const profile = await agent.data<{ updateMemberProfile: { userErrors: { code: string }[] } }>(
      `mutation($id: ID!) { updateMemberProfile(input: { memberId: $id, profile: { firstName: "Ghost" } }) { userErrors { code } } }`,
      { id },
    );
    expect(profile.updateMemberProfile.userErrors.map((e) => e.code)).toEqual(['MEMBER_CLOSED']);
    const identifier = await agent.data<{ addMemberIdentifier: { userErrors: { code: string }[] } }>(
      `mutation($id: ID!) { addMemberIdentifier(input: { memberId: $id, identifier: { type: CARD, value: "CLOSED0001" } }) { userErrors { code } } }`,
      { id },
    );
    expect(identifier.addMemberIdentifier.userErrors.map((e) => e.code)).toEqual(['MEMBER_CLOSED']);
  });
});

describe('consent records', () => {
  it('record only decisions that change something, with a source that matches who acts', async () => {
    const operator = await graph.asOperator();
    const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
      `mutation { createProgram(input: { name: "Consent audit", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
    );
    const programId = createProgram.program.id;
    const self = await graph.asMember(programId, null, 'consent-auditor');
    const { enrollMember } = await self.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "auditor@example.com" }] }) { member { id } } }`,
      { p: programId },
    );
    const SET = `mutation($id: ID!, $source: ConsentSource!) { setConsents(input: { memberId: $id, source: $source, consents: [{ channel: EMAIL, purpose: MARKETING, granted: true }] }) { member { consentHistory { granted source } } userErrors { code } } }`;
    const first = await self.data<{ setConsents: { member: { consentHistory: unknown[] } } }>(SET, { id: enrollMember.member.id, source: 'MEMBER_PORTAL' });
    const again = await self.data<{ setConsents: { member: { consentHistory: unknown[] } } }>(SET, { id: enrollMember.member.id, source: 'MEMBER_PORTAL' });
    expect(first.setConsents.member.consentHistory).toEqual([{ granted: true, source: 'MEMBER_PORTAL' }]);
    expect(again.setConsents.member.consentHistory).toHaveLength(1);

    const claimingHotline = await self.send(SET, { id: enrollMember.member.id, source: 'HOTLINE' });
    expect(errorCodes(claimingHotline)).toEqual(['BAD_USER_INPUT']);
    expect(claimingHotline.errors?.[0]?.extensions?.['field']).toBe('source');
  });
});
