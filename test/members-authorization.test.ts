import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevTokenIssuer } from '@loyalty-graph/gateway';
import { ANONYMOUS, createViewerSigner, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import { errorCodes, sendOperation, type Caller, type GraphQLResponse } from '@loyalty-graph/testing';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Who may do what, proved through the gateway with real tokens: every allowed path works, every
 * refused one gets the right error code and leaves the data as it was.
 */

let graph: TestSupergraph;
let operator: Caller;

const MEMBER = `id status statusReason firstName enrolledVia program { id }`;

const Q = {
  me: `query { me { ${MEMBER} } }`,
  member: `query($id: ID!) { member(id: $id) { ${MEMBER} } }`,
  members: `query($programId: ID!) { members(programId: $programId, first: 100) { nodes { id } } }`,
  memberByIdentifier: `query($programId: ID!, $value: String!) { memberByIdentifier(programId: $programId, type: EMAIL, value: $value) { id } }`,
  program: `query($id: ID!) { program(id: $id) { id name tiers { id name } } }`,
  programs: `query { programs(first: 100) { nodes { id } } }`,
  enroll: `mutation($programId: ID!, $email: String!) {
    enrollMember(input: { programId: $programId, identifiers: [{ type: EMAIL, value: $email }] }) { member { ${MEMBER} } userErrors { code field message } }
  }`,
  updateProfile: `mutation($memberId: ID!, $firstName: String) {
    updateMemberProfile(input: { memberId: $memberId, profile: { firstName: $firstName } }) { member { ${MEMBER} } userErrors { code } }
  }`,
  changeStatus: `mutation($memberId: ID!, $status: MemberStatus!, $reason: String!) {
    changeMemberStatus(input: { memberId: $memberId, status: $status, reason: $reason }) { member { ${MEMBER} } userErrors { code } }
  }`,
  createProgram: `mutation($name: String!) {
    createProgram(input: { name: $name, type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) {
      program { id } userErrors { code }
    }
  }`,
  updateProgram: `mutation($id: ID!, $name: String!) { updateProgram(input: { id: $id, name: $name }) { program { id name } userErrors { code } } }`,
  createTier: `mutation($programId: ID!, $name: String!) {
    createTier(input: { programId: $programId, name: $name, rank: 0, qualifyingThreshold: 0 }) { tier { id name program { id } } userErrors { code } }
  }`,
};

interface MemberView {
  id: string;
  status: string;
  statusReason: string | null;
  firstName: string | null;
  enrolledVia: string;
  program: { id: string };
}

let emailCounter = 0;
const freshEmail = () => `person${++emailCounter}@example.com`;

async function createProgram(name: string): Promise<string> {
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(Q.createProgram, { name });
  return createProgram.program.id;
}

/** Enrols a new member with a fresh email (failing the test if that does not work). */
async function enrol(by: Caller, programId: string, email = freshEmail()): Promise<MemberView> {
  const { enrollMember } = await by.data<{ enrollMember: { member: MemberView | null; userErrors: unknown[] } }>(Q.enroll, { programId, email });
  expect(enrollMember.userErrors).toEqual([]);
  return enrollMember.member!;
}

async function memberIds(programId: string): Promise<string[]> {
  const { members } = await operator.data<{ members: { nodes: { id: string }[] } }>(Q.members, { programId });
  return members.nodes.map((n) => n.id);
}

async function readMember(id: string): Promise<MemberView> {
  const { member } = await operator.data<{ member: MemberView }>(Q.member, { id });
  return member;
}

/** The request was refused with exactly this code and the root field carries no data. */
function expectRefused(res: GraphQLResponse, code: 'FORBIDDEN' | 'UNAUTHENTICATED', field?: string): void {
  expect(errorCodes(res), JSON.stringify(res.errors)).toEqual([code]);
  if (field) expect(res.data?.[field] ?? null).toBeNull();
}

// Two programs; A has two members, B one. Tests that change a member enrol their own.
let programA: string;
let programB: string;
let agentA: Caller;
let agentB: Caller;
let memberA1: MemberView;
let memberA2: MemberView;
let memberB1: MemberView;
let emailB1: string;

beforeAll(async () => {
  graph = await startSupergraph();
  operator = await graph.asOperator();
  programA = await createProgram('Program A');
  programB = await createProgram('Program B');
  agentA = await graph.asStaff(programA, ['AGENT']);
  agentB = await graph.asStaff(programB, ['AGENT']);
  memberA1 = await enrol(agentA, programA);
  memberA2 = await enrol(agentA, programA);
  emailB1 = freshEmail();
  memberB1 = await enrol(agentB, programB, emailB1);
});
afterAll(() => graph?.stop());
afterEach(() => {
  vi.useRealTimers();
});

describe('anonymous callers', () => {
  it('are told to authenticate for me, member, members, program and enrollMember, and enrol nobody', async () => {
    const before = await memberIds(programA);
    const attempts: [string, string, Record<string, unknown>][] = [
      ['me', Q.me, {}],
      ['member', Q.member, { id: memberA1.id }],
      ['members', Q.members, { programId: programA }],
      ['program', Q.program, { id: programA }],
      ['enrollMember', Q.enroll, { programId: programA, email: freshEmail() }],
    ];
    for (const [field, query, variables] of attempts) {
      expectRefused(await graph.anonymous.send(query, variables), 'UNAUTHENTICATED', field);
    }
    expect(await memberIds(programA)).toEqual(before);
  });

  it('cannot become someone else by sending their own x-lg-viewer header to the gateway', async () => {
    // Even a correctly signed internal token is ignored when a client sends it: only the gateway sets it.
    const internalSecret = (graph.subgraphs['members'] as unknown as { internalSecret: string }).internalSecret;
    const operatorViewer: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'forger' };
    const forgedHeaders = ['anything', JSON.stringify(operatorViewer), await createViewerSigner(internalSecret)(operatorViewer)];
    for (const forged of forgedHeaders) {
      const res = await sendOperation(graph.gatewayUrl, Q.member, { id: memberA1.id }, { [VIEWER_HEADER]: forged });
      expectRefused(res, 'UNAUTHENTICATED', 'member');
      expect(JSON.stringify(res)).not.toContain(memberA1.id);
    }
  });
});

describe('credentials', () => {
  it('rejects an access token signed with a secret the gateway does not trust', async () => {
    const foreign = createDevTokenIssuer({ secret: 'x'.repeat(64), issuer: 'loyalty-graph-test', audience: 'loyalty-graph' });
    const token = await foreign.staff({ programId: null, roles: ['ADMIN'], subject: 'intruder' });
    const res = await graph.withToken(token).send(Q.programs);
    expectRefused(res, 'UNAUTHENTICATED', 'programs');
    expect(res.status).toBe(401);
  });

  it('rejects an access token that has expired', async () => {
    const token = await graph.tokens.staff({ programId: programA, roles: ['AGENT'], subject: 'agent-expiring' });
    expect(errorCodes(await graph.withToken(token).send(Q.members, { programId: programA }))).toEqual([]);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 13 * 60 * 60 * 1000); // tokens live 12 hours
    expectRefused(await graph.withToken(token).send(Q.members, { programId: programA }), 'UNAUTHENTICATED', 'members');
  });

  it('rejects malformed Authorization headers instead of treating the caller as anonymous', async () => {
    for (const authorization of ['Bearer not-a-jwt', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const res = await sendOperation(graph.gatewayUrl, Q.program, { id: programA }, { authorization });
      expectRefused(res, 'UNAUTHENTICATED', 'program');
    }
  });

  it('refuses calls made straight to the members subgraph without the gateway’s internal token', async () => {
    const url = graph.subgraphs['members']!.url;
    const forger = createViewerSigner('y'.repeat(64));
    const operatorViewer: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'forger' };
    const attempts: Record<string, string>[] = [{}, { [VIEWER_HEADER]: 'garbage' }, { [VIEWER_HEADER]: await forger(operatorViewer) }];
    for (const headers of attempts) {
      const res = await sendOperation(url, Q.member, { id: memberA1.id }, headers);
      expectRefused(res, 'UNAUTHENTICATED', 'member');
      expect(JSON.stringify(res)).not.toContain(memberA1.id);
    }
  });
});

describe('members', () => {
  it('read themselves through me and member(id)', async () => {
    const self = await graph.asMember(programA, memberA1.id);
    expect(await self.data(Q.me)).toEqual({ me: memberA1 });
    expect(await self.data(Q.member, { id: memberA1.id })).toEqual({ member: memberA1 });
  });

  it('cannot read or edit another member, even in their own program', async () => {
    const self = await graph.asMember(programA, memberA1.id);
    expectRefused(await self.send(Q.member, { id: memberA2.id }), 'FORBIDDEN', 'member');
    expectRefused(await self.send(Q.member, { id: memberB1.id }), 'FORBIDDEN', 'member');
    expectRefused(await self.send(Q.updateProfile, { memberId: memberA2.id, firstName: 'Hijacked' }), 'FORBIDDEN', 'updateMemberProfile');
    expect((await readMember(memberA2.id)).firstName).toBe(memberA2.firstName);
  });

  it('cannot enrol in a program other than the one their login belongs to', async () => {
    const before = await memberIds(programB);
    const outsider = await graph.asMember(programA, null, 'subject-of-a');
    expectRefused(await outsider.send(Q.enroll, { programId: programB, email: freshEmail() }), 'FORBIDDEN', 'enrollMember');
    expect(await memberIds(programB)).toEqual(before);
  });

  it('enrol themselves and then find their membership through me, linked by their login subject', async () => {
    const newcomer = await graph.asMember(programA, null, 'self-enroller');
    expect(await newcomer.data(Q.me)).toEqual({ me: null });
    const enrolled = await enrol(newcomer, programA);
    expect(enrolled).toMatchObject({ status: 'ACTIVE', enrolledVia: 'SELF', program: { id: programA } });
    expect(await newcomer.data(Q.me)).toEqual({ me: enrolled });
    // The same login can read and edit the new membership before its token carries the member id.
    expect(await newcomer.data(Q.member, { id: enrolled.id })).toEqual({ member: enrolled });
    const { updateMemberProfile } = await newcomer.data<{ updateMemberProfile: { member: MemberView } }>(Q.updateProfile, { memberId: enrolled.id, firstName: 'Nina' });
    expect(updateMemberProfile.member.firstName).toBe('Nina');
    // Another login of the same program gets nothing.
    expect(await (await graph.asMember(programA, null, 'someone-else')).data(Q.me)).toEqual({ me: null });
  });

  it('cannot suspend their own membership, but can close it', async () => {
    const member = await enrol(agentA, programA);
    const self = await graph.asMember(programA, member.id);
    const suspend = await self.send(Q.changeStatus, { memberId: member.id, status: 'SUSPENDED', reason: 'Taking a break' });
    expectRefused(suspend, 'FORBIDDEN', 'changeMemberStatus');
    expect((await readMember(member.id)).status).toBe('ACTIVE');

    const { changeMemberStatus } = await self.data<{ changeMemberStatus: { member: MemberView; userErrors: unknown[] } }>(Q.changeStatus, {
      memberId: member.id,
      status: 'CLOSED',
      reason: 'Moving abroad',
    });
    expect(changeMemberStatus.userErrors).toEqual([]);
    expect(changeMemberStatus.member).toMatchObject({ status: 'CLOSED', statusReason: 'Moving abroad' });
    expect(await readMember(member.id)).toMatchObject({ status: 'CLOSED', statusReason: 'Moving abroad' });
  });
});

describe('agents', () => {
  it('list, read and edit the members of their own program', async () => {
    const { members } = await agentA.data<{ members: { nodes: { id: string }[] } }>(Q.members, { programId: programA });
    expect(members.nodes.map((n) => n.id)).toEqual(expect.arrayContaining([memberA1.id, memberA2.id]));
    expect(members.nodes.map((n) => n.id)).not.toContain(memberB1.id);
    expect(await agentA.data(Q.member, { id: memberA2.id })).toEqual({ member: memberA2 });

    const member = await enrol(agentA, programA);
    expect(member.enrolledVia).toBe('AGENT');
    const { updateMemberProfile } = await agentA.data<{ updateMemberProfile: { member: MemberView } }>(Q.updateProfile, { memberId: member.id, firstName: 'Olga' });
    expect(updateMemberProfile.member.firstName).toBe('Olga');
    expect((await readMember(member.id)).firstName).toBe('Olga');
  });

  it('see and change nothing in another program', async () => {
    const before = await memberIds(programB);
    expectRefused(await agentA.send(Q.member, { id: memberB1.id }), 'FORBIDDEN', 'member');
    expectRefused(await agentA.send(Q.members, { programId: programB }), 'FORBIDDEN', 'members');
    expectRefused(await agentA.send(Q.memberByIdentifier, { programId: programB, value: emailB1 }), 'FORBIDDEN', 'memberByIdentifier');
    expectRefused(await agentA.send(Q.program, { id: programB }), 'FORBIDDEN', 'program');
    expectRefused(await agentA.send(Q.updateProfile, { memberId: memberB1.id, firstName: 'Hijacked' }), 'FORBIDDEN', 'updateMemberProfile');
    expectRefused(await agentA.send(Q.enroll, { programId: programB, email: freshEmail() }), 'FORBIDDEN', 'enrollMember');
    expect(await readMember(memberB1.id)).toEqual(memberB1);
    expect(await memberIds(programB)).toEqual(before);
  });

  it('cannot configure their program: createTier and updateProgram are forbidden', async () => {
    expectRefused(await agentA.send(Q.createTier, { programId: programA, name: 'Bronze' }), 'FORBIDDEN', 'createTier');
    expectRefused(await agentA.send(Q.updateProgram, { id: programA, name: 'Renamed by agent' }), 'FORBIDDEN', 'updateProgram');
    expect(await operator.data(Q.program, { id: programA })).toEqual({ program: { id: programA, name: 'Program A', tiers: [] } });
  });
});

describe('program administrators', () => {
  it('create tiers in their own program but not in another', async () => {
    const programC = await createProgram('Program C');
    const programD = await createProgram('Program D');
    const adminC = await graph.asStaff(programC, ['ADMIN']);

    const own = await adminC.data<{ createTier: { tier: { id: string; name: string; program: { id: string } }; userErrors: unknown[] } }>(Q.createTier, {
      programId: programC,
      name: 'Bronze',
    });
    expect(own.createTier).toEqual({ tier: { id: expect.any(String), name: 'Bronze', program: { id: programC } }, userErrors: [] });

    expectRefused(await adminC.send(Q.createTier, { programId: programD, name: 'Bronze' }), 'FORBIDDEN', 'createTier');
    expect(await operator.data(Q.program, { id: programD })).toEqual({ program: { id: programD, name: 'Program D', tiers: [] } });
  });

  it('cannot create programs: only a platform operator can', async () => {
    const before = await operator.data(Q.programs);
    const adminA = await graph.asStaff(programA, ['ADMIN']);
    expectRefused(await adminA.send(Q.createProgram, { name: 'Rogue program' }), 'FORBIDDEN', 'createProgram');
    expect(await operator.data(Q.programs)).toEqual(before);

    const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(Q.createProgram, { name: 'Operator program' });
    expect(await operator.data(Q.program, { id: createProgram.program.id })).toMatchObject({ program: { name: 'Operator program' } });
  });
});

describe('fulfilment staff', () => {
  it('can see their program but cannot read its members', async () => {
    const fulfilment = await graph.asStaff(programA, ['FULFILMENT']);
    expect(await fulfilment.data(Q.program, { id: programA })).toMatchObject({ program: { id: programA } });
    expectRefused(await fulfilment.send(Q.member, { id: memberA1.id }), 'FORBIDDEN', 'member');
    expectRefused(await fulfilment.send(Q.members, { programId: programA }), 'FORBIDDEN', 'members');
    expectRefused(await fulfilment.send(Q.memberByIdentifier, { programId: programA, value: 'person1@example.com' }), 'FORBIDDEN', 'memberByIdentifier');
  });
});
