import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * Identifiers a member adds themself (members README, "Identifiers"): pending until confirmed with
 * the code the program's messaging system sends (read here from members' outbox, as that system
 * would get it from the feed); only verified ones find a member at the till; and nothing a member
 * sees tells them whether another member holds an email or phone.
 */

let graph: TestSupergraph;
let program: TestProgram;

beforeAll(async () => {
  graph = await startSupergraph();
  program = await createTestProgram(graph, { name: 'Verification program' });
}, 120_000);

afterAll(async () => {
  await graph?.stop();
});

const PAYLOAD = `member { id identifiers { type value } pendingIdentifiers { type value expiresAt } } userErrors { code field message }`;
const Q = {
  enroll: `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { ${PAYLOAD} } }`,
  add: `mutation($input: AddMemberIdentifierInput!) { addMemberIdentifier(input: $input) { ${PAYLOAD} } }`,
  verify: `mutation($input: VerifyMemberIdentifierInput!) { verifyMemberIdentifier(input: $input) { ${PAYLOAD} } }`,
  lookup: `query($p: ID!, $type: IdentifierType!, $value: String!) { memberByIdentifier(programId: $p, type: $type, value: $value) { id } }`,
};

interface MemberView {
  id: string;
  identifiers: { type: string; value: string }[];
  pendingIdentifiers: { type: string; value: string; expiresAt: string }[];
}
interface Payload {
  member: MemberView | null;
  userErrors: { code: string; field: string | null; message: string }[];
}

let people = 0;
/** A person who signs in and enrols themself with an email; returns their caller and member. */
async function selfEnrolled(email = `person${++people}@example.com`): Promise<{ me: Caller; member: MemberView; email: string }> {
  const me = await graph.asMember(program.programId, null, `idp|person-${++people}`);
  const payload = await mutate(me, Q.enroll, { programId: program.programId, identifiers: [{ type: 'EMAIL', value: email }] });
  expect(payload.userErrors).toEqual([]);
  return { me, member: payload.member!, email };
}

async function mutate(by: Caller, query: string, input: Record<string, unknown>): Promise<Payload> {
  const data = await by.data<Record<string, Payload>>(query, { input });
  return Object.values(data)[0]!;
}

async function staffEnrolled(email: string): Promise<string> {
  const payload = await mutate(program.agent, Q.enroll, { programId: program.programId, identifiers: [{ type: 'EMAIL', value: email }] });
  expect(payload.userErrors).toEqual([]);
  return payload.member!.id;
}

const atTill = async (type: string, value: string) =>
  (await program.agent.data<{ memberByIdentifier: { id: string } | null }>(Q.lookup, { p: program.programId, type, value })).memberByIdentifier?.id ?? null;

/** What members told the messaging system, for this value, oldest first. */
async function eventsAbout(value: string): Promise<{ type: string; aggregateId: string; payload: Record<string, unknown> }[]> {
  return (await graph.subgraphs['members']!.db.query(
    `SELECT event_type AS type, aggregate_id AS "aggregateId", payload FROM outbox WHERE payload->>'value' = $1 ORDER BY id`,
    [value],
  )) as { type: string; aggregateId: string; payload: Record<string, unknown> }[];
}

async function lastCode(memberId: string, value: string): Promise<string> {
  const sent = (await eventsAbout(value)).filter((e) => e.type === 'IdentifierVerificationRequested' && e.payload['memberId'] === memberId);
  expect(sent.length).toBeGreaterThan(0);
  return sent.at(-1)!.payload['code'] as string;
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('an email a member adds themself', () => {
  it('waits for its code, finds nobody at the till until confirmed, then finds the member', async () => {
    const { me, member } = await selfEnrolled();
    const payload = await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: 'New.Address@Example.com' } });
    expect(payload.userErrors).toEqual([]);
    expect(payload.member!.pendingIdentifiers.map((p) => p.value)).toContain('new.address@example.com');
    expect(payload.member!.identifiers.map((i) => i.value)).not.toContain('new.address@example.com');
    expect(await atTill('EMAIL', 'new.address@example.com')).toBeNull();

    const code = await lastCode(member.id, 'new.address@example.com');
    expect(code).toMatch(/^\d{6}$/);
    const verified = await mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: 'NEW.address@example.com' }, code });
    expect(verified.userErrors).toEqual([]);
    expect(verified.member!.identifiers).toContainEqual({ type: 'EMAIL', value: 'new.address@example.com' });
    expect(verified.member!.pendingIdentifiers.map((p) => p.value)).not.toContain('new.address@example.com');
    expect(await atTill('EMAIL', 'new.address@example.com')).toBe(member.id);
    // The code was used up with the request.
    const again = await mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: 'new.address@example.com' }, code });
    expect(again.userErrors.map((e) => e.code)).toEqual(['VERIFICATION_FAILED']);
  });

  it('keeps the email of a member who enrolled themself pending too, and confirms it the same way', async () => {
    const { me, member, email } = await selfEnrolled();
    expect(member.identifiers).toEqual([]);
    expect(member.pendingIdentifiers.map((p) => p.value)).toEqual([email]);
    expect(await atTill('EMAIL', email)).toBeNull();
    const verified = await mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: email }, code: await lastCode(member.id, email) });
    expect(verified.userErrors).toEqual([]);
    expect(await atTill('EMAIL', email)).toBe(member.id);
  });

  it('refuses wrong codes, counts them, and after five refuses even the right one; a new request sends a new code', async () => {
    const { me, member, email } = await selfEnrolled();
    const code = await lastCode(member.id, email);
    const verify = (c: string) => mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: email }, code: c });
    for (let i = 0; i < 5; i++) expect((await verify(wrong(code))).userErrors.map((e) => e.code)).toEqual(['VERIFICATION_FAILED']);
    expect((await verify(code)).userErrors.map((e) => e.code)).toEqual(['TOO_MANY_ATTEMPTS']);
    expect(await atTill('EMAIL', email)).toBeNull();

    expect((await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: email } })).userErrors).toEqual([]);
    const fresh = await lastCode(member.id, email);
    expect((await verify(fresh)).userErrors).toEqual([]);
    expect(await atTill('EMAIL', email)).toBe(member.id);
  });

  it('expires its code after 15 minutes', async () => {
    const { me, member, email } = await selfEnrolled();
    const code = await lastCode(member.id, email);
    graph.clock.advance(15 * 60_000);
    const late = await mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: email }, code });
    expect(late.userErrors.map((e) => e.code)).toEqual(['CODE_EXPIRED']);
    expect(await atTill('EMAIL', email)).toBeNull();
  });

  it('refuses a code that is not six digits as BAD_USER_INPUT on code', async () => {
    const { me, member, email } = await selfEnrolled();
    const response = await me.send(Q.verify, { input: { memberId: member.id, identifier: { type: 'EMAIL', value: email }, code: 'abc' } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!['field']).toBe('code');
  });

  it('cannot be confirmed by another member', async () => {
    const { member, email } = await selfEnrolled();
    const { me: other } = await selfEnrolled();
    const response = await other.send(Q.verify, { input: { memberId: member.id, identifier: { type: 'EMAIL', value: email }, code: await lastCode(member.id, email) } });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(await atTill('EMAIL', email)).toBeNull();
  });
});

describe('an email another member already holds', () => {
  it('gets the same answer as a free one, sends no code, tells the holder, and can never be confirmed', async () => {
    const holderId = await staffEnrolled('held@example.com');
    const { me, member, email } = await selfEnrolled();
    const held = await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: 'held@example.com' } });
    const free = await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: 'free@example.com' } });
    // The same answer: no error, pending, same shape.
    expect(held.userErrors).toEqual([]);
    expect(held.userErrors).toEqual(free.userErrors);
    const pending = (payload: Payload) => Object.fromEntries(payload.member!.pendingIdentifiers.map((p) => [p.value, p]));
    expect(Object.keys(pending(free)).sort()).toEqual(['free@example.com', 'held@example.com', email].sort());
    expect({ ...pending(free)['held@example.com'], value: null }).toEqual({ ...pending(free)['free@example.com'], value: null });

    // No code went out for it; the holder is told someone tried, and not who.
    const events = await eventsAbout('held@example.com');
    expect(events.filter((e) => e.type === 'IdentifierVerificationRequested')).toEqual([]);
    expect(events.filter((e) => e.type === 'IdentifierClaimAttempted')).toEqual([
      { type: 'IdentifierClaimAttempted', aggregateId: holderId, payload: expect.objectContaining({ holderId, type: 'EMAIL', value: 'held@example.com' }) },
    ]);
    expect(JSON.stringify(events)).not.toContain(member.id);

    // Every code fails the way a wrong code does for a free email, and the tries run out the same way.
    const verify = (code: string) => mutate(me, Q.verify, { memberId: member.id, identifier: { type: 'EMAIL', value: 'held@example.com' }, code });
    for (const code of ['000000', '123456', '999999', '424242', '654321']) expect((await verify(code)).userErrors.map((e) => e.code)).toEqual(['VERIFICATION_FAILED']);
    expect((await verify('111111')).userErrors.map((e) => e.code)).toEqual(['TOO_MANY_ATTEMPTS']);
    expect(await atTill('EMAIL', 'held@example.com')).toBe(holderId);
  });

  it('lets a person enrol themself with it (no IDENTIFIER_TAKEN), pending, while the till still finds the holder', async () => {
    const holderId = await staffEnrolled('taken-at-enrolment@example.com');
    const { member } = await selfEnrolled('taken-at-enrolment@example.com');
    expect(member.id).not.toBe(holderId);
    expect(member.pendingIdentifiers.map((p) => p.value)).toEqual(['taken-at-enrolment@example.com']);
    expect(await atTill('EMAIL', 'taken-at-enrolment@example.com')).toBe(holderId);
  });

  it('goes to whoever confirms first when two members ask for a free email; the other’s right code then fails', async () => {
    const first = await selfEnrolled();
    const second = await selfEnrolled();
    for (const { me, member } of [first, second]) {
      expect((await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: 'contested@example.com' } })).userErrors).toEqual([]);
    }
    const [firstCode, secondCode] = [await lastCode(first.member.id, 'contested@example.com'), await lastCode(second.member.id, 'contested@example.com')];
    const verify = (who: typeof first, code: string) => mutate(who.me, Q.verify, { memberId: who.member.id, identifier: { type: 'EMAIL', value: 'contested@example.com' }, code });
    expect((await verify(first, firstCode)).userErrors).toEqual([]);
    expect((await verify(second, secondCode)).userErrors.map((e) => e.code)).toEqual(['VERIFICATION_FAILED']);
    expect(await atTill('EMAIL', 'contested@example.com')).toBe(first.member.id);
  });
});

describe('what stays with staff', () => {
  it('a card: a member cannot add one themself, nor enrol with one', async () => {
    const { me, member } = await selfEnrolled();
    const added = await mutate(me, Q.add, { memberId: member.id, identifier: { type: 'CARD', value: 'SELF00001' } });
    expect(added.userErrors).toEqual([expect.objectContaining({ code: 'CARD_NEEDS_STAFF', field: 'identifier.type' })]);
    const newcomer = await graph.asMember(program.programId, null, 'idp|card-holder');
    const enrolled = await mutate(newcomer, Q.enroll, { programId: program.programId, identifiers: [{ type: 'CARD', value: 'SELF00002' }] });
    expect(enrolled.userErrors).toEqual([expect.objectContaining({ code: 'CARD_NEEDS_STAFF', field: 'identifiers.0.type' })]);
    expect((await newcomer.data<{ me: unknown }>('{ me { id } }')).me).toBeNull();
  });

  it('staff add identifiers verified at once (they see the card or ID), and clear a code the member was waiting for', async () => {
    const { me, member, email } = await selfEnrolled();
    const added = await mutate(program.agent, Q.add, { memberId: member.id, identifier: { type: 'EMAIL', value: email } });
    expect(added.userErrors).toEqual([]);
    expect(added.member!.identifiers).toContainEqual({ type: 'EMAIL', value: email });
    expect(added.member!.pendingIdentifiers).toEqual([]);
    expect(await atTill('EMAIL', email)).toBe(member.id);
    const card = await mutate(program.agent, Q.add, { memberId: member.id, identifier: { type: 'CARD', value: 'DESK00001' } });
    expect(card.userErrors).toEqual([]);
    expect(await atTill('CARD', 'DESK00001')).toBe(member.id);
    // The member's own view agrees.
    expect((await me.data<{ me: MemberView }>('{ me { id identifiers { type value } pendingIdentifiers { type value expiresAt } } }')).me.pendingIdentifiers).toEqual([]);
  });
});
