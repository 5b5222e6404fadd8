import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { signedBy, startReceiver } from '../subgraphs/partners/test/webhook-helpers';

/**
 * Enrolment at a partner's till through the gateway (issue 11): a key with members:enroll enrols
 * someone in its own program with the card it issued (verified at once) and an email (pending
 * until the member confirms it with its code); the partner gets the minimised view only; a retry
 * meets the card and enrols nobody twice; and the partner's webhook endpoint hears of the
 * enrolment as a signed member.enrolled, while another partner's does not.
 */
let graph: TestSupergraph;
let p: TestProgram;
let other: TestProgram;
let till: { partnerId: string; clientId: string; as: Caller };
let lookupOnly: Caller;

const ENROL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { partnerMember { memberId canEarn tierName } userErrors { code field message } } }`;
const AS_STAFF = `query($id: ID!) {
  member(id: $id) {
    enrolledVia firstName identifiers { type value } pendingIdentifiers { type value }
    consents { channel purpose granted source } statusHistory { changedBy }
  }
}`;
const AT_TILL = `query($p: ID!, $type: IdentifierType!, $value: String!) { memberByIdentifier(programId: $p, type: $type, value: $value) { id } }`;
const VERIFY = `mutation($input: VerifyMemberIdentifierInput!) { verifyMemberIdentifier(input: $input) { member { identifiers { type value } } userErrors { code } } }`;
const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { code } } }`;

type Enrolled = { enrollMember: { partnerMember: { memberId: string; canEarn: boolean; tierName: string | null } | null; userErrors: { code: string; field: string | null; message: string }[] } };

let n = 0;
async function partner(program: TestProgram, name: string): Promise<string> {
  const { createPartner } = await program.admin.data<{ createPartner: { partner: { id: string } } }>(
    `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`,
    { input: { idempotencyKey: `enrol-partner-${++n}`, programId: program.programId, name, category: 'RETAIL' } },
  );
  return createPartner.partner.id;
}

async function key(program: TestProgram, partnerId: string, scopes: string[]): Promise<{ clientId: string; as: Caller }> {
  const { createPartnerApiClient } = await program.admin.data<{ createPartnerApiClient: { client: { id: string }; key: string } }>(
    `mutation($input: CreatePartnerApiClientInput!) { createPartnerApiClient(input: $input) { client { id } key } }`,
    { input: { idempotencyKey: `enrol-key-${++n}`, partnerId, name: 'Till', scopes } },
  );
  return { clientId: createPartnerApiClient.client.id, as: caller(graph.gatewayUrl, { 'x-api-key': createPartnerApiClient.key }) };
}

const card = () => `TILL${String(++n).padStart(6, '0')}`;
const enrolInput = (over: Record<string, unknown> = {}) => ({ programId: p.programId, identifiers: [{ type: 'CARD', value: card() }], ...over });

async function enrol(by: Caller, input: Record<string, unknown>) {
  return (await by.data<Enrolled>(ENROL, { input })).enrollMember;
}

const atTill = async (type: string, value: string) =>
  (await p.agent.data<{ memberByIdentifier: { id: string } | null }>(AT_TILL, { p: p.programId, type, value })).memberByIdentifier?.id ?? null;

/** Members' outbox rows of one kind for a member (what every consumer, partners included, hears). */
async function outbox(type: string, memberId: string): Promise<Record<string, unknown>[]> {
  const rows = (await graph.subgraphs['members']!.db.query(`SELECT payload FROM outbox WHERE event_type = $1 AND aggregate_id = $2 ORDER BY id`, [type, memberId])) as { payload: Record<string, unknown> }[];
  return rows.map((row) => row.payload);
}

beforeAll(async () => {
  graph = await startSupergraph();
  p = await createTestProgram(graph, { name: 'Enrolment program' });
  other = await createTestProgram(graph, { name: 'Other program' });
  await p.admin.data(`mutation($p: ID!) { createTier(input: { programId: $p, name: "Bronze", rank: 1, qualifyingThreshold: 0 }) { tier { id } } }`, { p: p.programId });
  const partnerId = await partner(p, 'Till Café');
  till = { partnerId, ...(await key(p, partnerId, ['MEMBERS_ENROLL'])) };
  lookupOnly = (await key(p, partnerId, ['MEMBERS_LOOKUP', 'PURCHASES_WRITE'])).as;
});
afterAll(async () => {
  await graph?.stop();
});

describe('a partner’s till enrolling someone (members:enroll)', () => {
  it('enrols with its card (verified at once) and an email (pending the member’s code); enrolledVia PARTNER, consents from the partner, the event names the partner', async () => {
    const cardNumber = card();
    const consents = [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true }];
    const result = await enrol(till.as, {
      programId: p.programId,
      profile: { firstName: 'Ann' },
      identifiers: [
        { type: 'CARD', value: cardNumber.toLowerCase() },
        { type: 'EMAIL', value: 'Ann.Till@Example.com' },
      ],
      consents,
    });
    expect(result.userErrors).toEqual([]);
    const memberId = result.partnerMember!.memberId;
    expect(result.partnerMember).toEqual({ memberId, canEarn: true, tierName: 'Bronze' });

    const { member } = await p.agent.data<{ member: Record<string, unknown> }>(AS_STAFF, { id: memberId });
    expect(member).toEqual({
      enrolledVia: 'PARTNER',
      firstName: 'Ann',
      identifiers: [{ type: 'CARD', value: cardNumber }],
      pendingIdentifiers: [{ type: 'EMAIL', value: 'ann.till@example.com' }],
      consents: [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true, source: 'PARTNER' }],
      statusHistory: [{ changedBy: till.clientId }],
    });
    // The card finds them at a till now; the typed email finds nobody until its owner confirms it.
    expect(await atTill('CARD', cardNumber)).toBe(memberId);
    expect(await atTill('EMAIL', 'ann.till@example.com')).toBeNull();

    expect(await outbox('MemberEnrolled', memberId)).toEqual([expect.objectContaining({ memberId, channel: 'PARTNER', partnerId: till.partnerId, subject: null })]);
    const [request] = await outbox('IdentifierVerificationRequested', memberId);
    expect(request).toMatchObject({ type: 'EMAIL', value: 'ann.till@example.com' });

    // The member (signed in later, their IdP knowing their member id) confirms it with the code sent to it.
    const ann = await graph.asMember(p.programId, memberId);
    const { verifyMemberIdentifier } = await ann.data<{ verifyMemberIdentifier: { userErrors: unknown[] } }>(VERIFY, {
      input: { memberId, identifier: { type: 'EMAIL', value: 'ann.till@example.com' }, code: request!['code'] },
    });
    expect(verifyMemberIdentifier.userErrors).toEqual([]);
    expect(await atTill('EMAIL', 'ann.till@example.com')).toBe(memberId);
  });

  it('takes a friend’s referral code (an unknown one enrols nobody)', async () => {
    const { enrollMember: friend } = await p.agent.data<{ enrollMember: { member: { id: string; referralCode: string } } }>(
      `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id referralCode } } }`,
      { input: enrolInput() },
    );
    const referred = await enrol(till.as, enrolInput({ referralCode: friend.member.referralCode.toLowerCase() }));
    expect(referred.userErrors).toEqual([]);
    const { member } = await p.agent.data<{ member: { referredBy: { referrer: { id: string } } | null } }>(`query($id: ID!) { member(id: $id) { referredBy { referrer { id } } } }`, {
      id: referred.partnerMember!.memberId,
    });
    expect(member.referredBy).toEqual({ referrer: { id: friend.member.id } });

    const cardNumber = card();
    const unknown = await enrol(till.as, enrolInput({ identifiers: [{ type: 'CARD', value: cardNumber }], referralCode: 'NOSUCHCODE' }));
    expect(unknown).toMatchObject({ partnerMember: null, userErrors: [{ code: 'REFERRAL_CODE_NOT_FOUND' }] });
    expect(await atTill('CARD', cardNumber)).toBeNull();
  });

  it('gives the partner no Member: member and its personal fields are FORBIDDEN, the view has none, nothing personal comes back', async () => {
    const asked = await till.as.send(`mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id firstName identifiers { value } consents { purpose } } userErrors { code } } }`, {
      input: enrolInput({ profile: { firstName: 'Bea', lastName: 'Private' } }),
    });
    expect(errorCodes(asked)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(asked.data)).not.toMatch(/Bea|Private|TILL/);
    expect((asked.data as { enrollMember: { member: unknown } }).enrollMember.member).toBeNull();

    const viewFields = await till.as.send(`mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { partnerMember { memberId firstName } } }`, { input: enrolInput() });
    expect(errorCodes(viewFields)).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    // Staff keep the member as before, and the partner's view is not theirs.
    const staff = await p.agent.send(`mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { partnerMember { memberId } } }`, { input: enrolInput() });
    expect(errorCodes(staff)).toEqual(['FORBIDDEN']);
  });

  it('refuses no key, a key without members:enroll, another program and staff of another program; nothing is enrolled', async () => {
    const cardNumber = card();
    const input = { programId: p.programId, identifiers: [{ type: 'CARD', value: cardNumber }] };
    expect(errorCodes(await graph.anonymous.send(ENROL, { input }))).toEqual(['UNAUTHENTICATED']);
    const noScope = await lookupOnly.send(ENROL, { input });
    expect(errorCodes(noScope)).toEqual(['FORBIDDEN']);
    expect(noScope.errors![0]!.message).toMatch(/members:enroll/);
    expect(errorCodes(await till.as.send(ENROL, { input: { ...input, programId: other.programId } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await other.agent.send(ENROL, { input }))).toEqual(['FORBIDDEN']);
    expect(await atTill('CARD', cardNumber)).toBeNull();
  });

  it('answers malformed input with BAD_USER_INPUT naming the field, never INTERNAL_SERVER_ERROR, and an enrolment without a card with CARD_REQUIRED', async () => {
    const malformed: [Record<string, unknown>, string][] = [
      [{ identifiers: [{ type: 'CARD', value: 'x' }] }, 'identifiers.0.value'],
      [{ identifiers: [{ type: 'CARD', value: card() }, { type: 'EMAIL', value: 'not an email' }] }, 'identifiers.1.value'],
      [{ identifiers: [] }, 'identifiers'],
      [{ profile: { birthDate: '31/12/1990' } }, 'profile.birthDate'],
      [{ programId: 'not-a-uuid' }, 'programId'],
    ];
    for (const [over, field] of malformed) {
      const response = await till.as.send(ENROL, { input: enrolInput(over) });
      expect(errorCodes(response), JSON.stringify(over)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.extensions?.['field'], JSON.stringify(over)).toBe(field);
    }
    // Wrong types are refused by the gateway before any subgraph sees them.
    expect(errorCodes(await till.as.send(ENROL, { input: enrolInput({ identifiers: [{ type: 'FAX', value: '123456' }] }) }))).toEqual(['BAD_USER_INPUT']);

    const emailOnly = await enrol(till.as, enrolInput({ identifiers: [{ type: 'EMAIL', value: 'no.card@example.com' }] }));
    expect(emailOnly).toMatchObject({ partnerMember: null, userErrors: [{ code: 'CARD_REQUIRED', field: 'identifiers' }] });
  });

  it('is safe to retry: the same enrolment again, or four at once, enrols one member and answers the rest IDENTIFIER_TAKEN', async () => {
    const input = enrolInput({ profile: { firstName: 'Retry' }, identifiers: [{ type: 'CARD', value: card() }, { type: 'EMAIL', value: 'retry@example.com' }] });
    const first = await enrol(till.as, input);
    expect(first.userErrors).toEqual([]);
    const again = await enrol(till.as, input);
    expect(again).toEqual({ partnerMember: null, userErrors: [expect.objectContaining({ code: 'IDENTIFIER_TAKEN', field: 'identifiers' })] });

    // A till that timed out while its first request still runs: the same card at once, real PostgreSQL deciding.
    const racing = enrolInput({ profile: { firstName: 'Racer' }, identifiers: [{ type: 'CARD', value: card() }] });
    const answers = await Promise.all([1, 2, 3, 4].map(() => enrol(till.as, racing)));
    const won = answers.filter((a) => a.partnerMember !== null);
    expect(won).toHaveLength(1);
    expect(answers.filter((a) => a.userErrors[0]?.code === 'IDENTIFIER_TAKEN')).toHaveLength(3);

    const members = graph.subgraphs['members']!.db;
    for (const firstName of ['Retry', 'Racer']) {
      const rows = (await members.query(`SELECT count(*)::int AS count FROM members WHERE program_id = $1 AND first_name = $2`, [p.programId, firstName])) as { count: number }[];
      expect(rows[0]?.count, firstName).toBe(1);
    }
    expect(await outbox('MemberEnrolled', won[0]!.partnerMember!.memberId)).toHaveLength(1);
    // The rolled-back attempts sent no second code for the retried email.
    expect(await outbox('IdentifierVerificationRequested', first.partnerMember!.memberId)).toHaveLength(1);
  });
});

it('end to end: the enrolling partner’s endpoint receives a signed member.enrolled; another partner’s endpoint and staff enrolments send nothing', async () => {
  // Earlier enrolments reach partners first, before these endpoints exist.
  await graph.deliverEvents();
  const receiverA = await startReceiver();
  const receiverB = await startReceiver();
  try {
    const aId = await partner(p, 'Hook Till');
    const bId = await partner(p, 'Other Till');
    const a = await key(p, aId, ['MEMBERS_ENROLL', 'WEBHOOKS_MANAGE']);
    const b = await key(p, bId, ['MEMBERS_ENROLL', 'WEBHOOKS_MANAGE']);
    const endpoint = async (as: Caller, url: string) =>
      (await as.data<{ createWebhookEndpoint: { secret: string; userErrors: unknown[] } }>(CREATE_ENDPOINT, { input: { url, eventTypes: ['MEMBER_ENROLLED'] } })).createWebhookEndpoint;
    const hookA = await endpoint(a.as, receiverA.url);
    const hookB = await endpoint(b.as, receiverB.url);
    expect([hookA.userErrors, hookB.userErrors]).toEqual([[], []]);

    const byA = await enrol(a.as, enrolInput({ consents: [{ channel: 'EMAIL', purpose: 'MARKETING', granted: false }] }));
    expect(byA.userErrors).toEqual([]);
    const memberId = byA.partnerMember!.memberId;
    const byStaff = await p.agent.data<{ enrollMember: { userErrors: unknown[] } }>(`mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { userErrors { code } } }`, { input: enrolInput() });
    expect(byStaff.enrollMember.userErrors).toEqual([]);

    await graph.deliverEvents();
    await graph.subgraphs['partners']!.runJobs();

    expect(receiverB.received).toEqual([]);
    expect(receiverA.received).toHaveLength(1);
    const [delivery] = receiverA.received;
    expect(signedBy(hookA.secret, delivery!)).toBe(true);
    expect(signedBy(hookB.secret, delivery!)).toBe(false);
    const body = JSON.parse(delivery!.body) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe('member.enrolled');
    expect(body.data).toEqual({ memberId, enrolledAt: expect.any(String) });
  } finally {
    await receiverA.stop();
    await receiverB.stop();
  }
});
