import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersSubgraph } from '@loyalty-graph/members';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { MemberIdentifierEntity } from '../src/entities/member-identifier';

/**
 * Confirmation under concurrency, against real PostgreSQL: whatever the interleaving, an email
 * ends up with exactly one member, and a code's tries are counted exactly.
 */

let sub: RunningSubgraph;
let programId: string;

const OPERATOR: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'op' };
const ENROL = `mutation($p: ID!, $e: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } userErrors { code } } }`;
const ADD = `mutation($input: AddMemberIdentifierInput!) { addMemberIdentifier(input: $input) { userErrors { code } } }`;
const VERIFY = `mutation($input: VerifyMemberIdentifierInput!) { verifyMemberIdentifier(input: $input) { userErrors { code } } }`;

beforeAll(async () => {
  sub = await startTestSubgraph(membersSubgraph as unknown as SubgraphModule<ViewerContext>);
  const operator = await sub.as(OPERATOR);
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Verification", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
  );
  programId = createProgram.program.id;
});
afterAll(() => sub?.stop());

let people = 0;
/** A member who enrolled themself, called as the gateway would call for them. */
async function member(): Promise<{ id: string; as: Caller }> {
  const subject = `idp|race-${++people}`;
  const as = await sub.as({ ...ANONYMOUS, kind: 'MEMBER', programId, subject });
  const { enrollMember } = await as.data<{ enrollMember: { member: { id: string } } }>(ENROL, { p: programId, e: `${subject.slice(4)}@example.com` });
  return { id: enrollMember.member.id, as };
}

async function codeFor(memberId: string, value: string): Promise<string> {
  const rows = (await sub.db.query(
    `SELECT payload->>'code' AS code FROM outbox WHERE event_type = 'IdentifierVerificationRequested' AND payload->>'memberId' = $1 AND payload->>'value' = $2 ORDER BY id DESC LIMIT 1`,
    [memberId, value],
  )) as { code: string }[];
  return rows[0]!.code;
}

describe('confirming identifiers at the same moment', () => {
  it('gives an email asked for by eight members to exactly one of them when all confirm at once', async () => {
    const email = 'everyone-wants-this@example.com';
    const members = await Promise.all(Array.from({ length: 8 }, member));
    for (const m of members) expect((await m.as.data<{ addMemberIdentifier: { userErrors: unknown[] } }>(ADD, { input: { memberId: m.id, identifier: { type: 'EMAIL', value: email } } })).addMemberIdentifier.userErrors).toEqual([]);
    const codes = await Promise.all(members.map((m) => codeFor(m.id, email)));
    const results = await Promise.all(
      members.map((m, i) => m.as.data<{ verifyMemberIdentifier: { userErrors: { code: string }[] } }>(VERIFY, { input: { memberId: m.id, identifier: { type: 'EMAIL', value: email }, code: codes[i] } })),
    );
    const outcomes = results.map((r) => r.verifyMemberIdentifier.userErrors.map((e) => e.code).join() || 'OK');
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'VERIFICATION_FAILED')).toHaveLength(7);
    const holders = await sub.db.getRepository(MemberIdentifierEntity).findBy({ programId, type: 'EMAIL', value: email });
    expect(holders.map((h) => h.memberId)).toEqual([members[outcomes.indexOf('OK')]!.id]);
  });

  it('counts every one of simultaneous wrong codes against the tries', async () => {
    const m = await member();
    const email = `${people}-tries@example.com`;
    await m.as.data(ADD, { input: { memberId: m.id, identifier: { type: 'EMAIL', value: email } } });
    const code = await codeFor(m.id, email);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const tries = await Promise.all(
      Array.from({ length: 5 }, () => m.as.data<{ verifyMemberIdentifier: { userErrors: { code: string }[] } }>(VERIFY, { input: { memberId: m.id, identifier: { type: 'EMAIL', value: email }, code: wrong } })),
    );
    expect(tries.map((t) => t.verifyMemberIdentifier.userErrors[0]?.code)).toEqual(Array(5).fill('VERIFICATION_FAILED'));
    const right = await m.as.data<{ verifyMemberIdentifier: { userErrors: { code: string }[] } }>(VERIFY, { input: { memberId: m.id, identifier: { type: 'EMAIL', value: email }, code } });
    expect(right.verifyMemberIdentifier.userErrors.map((e) => e.code)).toEqual(['TOO_MANY_ATTEMPTS']);
  });
});
