import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, type Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * One identity for a member (docs/identity.md): a token that carries only the login subject is the
 * member that subject enrolled as, in every subgraph, from the first request after enrolment.
 */

let graph: TestSupergraph;
let program: TestProgram;
let other: TestProgram;

beforeAll(async () => {
  graph = await startSupergraph();
  program = await createTestProgram(graph, { name: 'Identity program' });
  other = await createTestProgram(graph, { name: 'Another program' });
}, 120_000);

afterAll(async () => {
  await graph?.stop();
});

const ENROL = `mutation($p: ID!, $e: String!) {
  enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $e }] }) { member { id } userErrors { code field message } }
}`;
const ME = `query { me { id points { posted pending } statement(first: 10) { nodes { id memberAmount } } } }`;
const POINTS_OF = `query($id: ID!) { member(id: $id) { id points { posted pending } } }`;

interface Me {
  me: { id: string; points: { posted: number; pending: number }; statement: { nodes: { id: string; memberAmount: number }[] } } | null;
}

let emails = 0;
async function selfEnrol(member: Caller, programId: string): Promise<string> {
  const { enrollMember } = await member.data<{ enrollMember: { member: { id: string } | null; userErrors: unknown[] } }>(ENROL, {
    p: programId,
    e: `identity${++emails}@example.com`,
  });
  expect(enrollMember.userErrors).toEqual([]);
  return enrollMember.member!.id;
}

async function buy(memberId: string, amount: string): Promise<void> {
  const { recordPurchase } = await program.agent.data<{ recordPurchase: { userErrors: unknown[] } }>(
    `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code message } } }`,
    {
      input: {
        idempotencyKey: `identity-${memberId}-${amount}`,
        memberId,
        source: 'shop',
        externalId: `I-${memberId}-${amount}`,
        basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'SKU-1', category: 'food', quantity: 1, amount }] },
      },
    },
  );
  expect(recordPurchase.userErrors).toEqual([]);
}

describe('a member whose token carries only their login subject', () => {
  it('sees their points and statement right after enrolling themself, before members’ events reach the ledger', async () => {
    const member = await graph.asMember(program.programId, null, 'idp|just-enrolled');
    const memberId = await selfEnrol(member, program.programId);
    // No deliverEvents: the ledger has no snapshot of the member yet and asks members who this is.
    const fresh = await member.send<Me>(ME);
    expect(fresh.errors).toBeUndefined();
    expect(fresh.data!.me).toEqual({ id: memberId, points: { posted: 0, pending: 0 }, statement: { nodes: [] } });
  });

  it('keeps seeing them from the ledger’s own projection once the enrolment has arrived there, including points earned', async () => {
    const member = await graph.asMember(program.programId, null, 'idp|earner');
    const memberId = await selfEnrol(member, program.programId);
    await graph.deliverEvents();
    await buy(memberId, '42.00');
    await graph.deliverEvents();
    const { me } = await member.data<Me>(ME);
    expect(me!.id).toBe(memberId);
    expect(me!.points.posted + me!.points.pending).toBe(42);
    expect(me!.statement.nodes.map((n) => n.memberAmount)).toEqual([42]);
    // And through member(id), the same way.
    const { member: byId } = await member.data<{ member: { points: { posted: number; pending: number } } }>(POINTS_OF, { id: memberId });
    expect(byId.points.posted + byId.points.pending).toBe(42);
  });

  it('never sees another member’s points: not another login of the program, nor the same login in another program', async () => {
    const owner = await graph.asMember(program.programId, null, 'idp|owner');
    const ownerId = await selfEnrol(owner, program.programId);
    await graph.deliverEvents();

    const stranger = await graph.asMember(program.programId, null, 'idp|stranger');
    expect(await stranger.data<Me>(ME)).toEqual({ me: null });
    const refused = await stranger.send(POINTS_OF, { id: ownerId });
    expect(errorCodes(refused)).toContain('FORBIDDEN');

    // The same subject in another program is another person as far as this program is concerned.
    const sameSubjectElsewhere = await graph.asMember(other.programId, null, 'idp|owner');
    expect(await sameSubjectElsewhere.data<Me>(ME)).toEqual({ me: null });
    expect(errorCodes(await sameSubjectElsewhere.send(POINTS_OF, { id: ownerId }))).toContain('FORBIDDEN');
    // Enrolling there makes a second, separate membership.
    const elsewhereId = await selfEnrol(sameSubjectElsewhere, other.programId);
    expect(elsewhereId).not.toBe(ownerId);
    expect((await sameSubjectElsewhere.data<Me>(ME)).me!.id).toBe(elsewhereId);
  });

  it('is refused when the token’s memberId claim contradicts the member its subject enrolled as', async () => {
    const victim = await graph.asMember(program.programId, null, 'idp|victim');
    const victimId = await selfEnrol(victim, program.programId);
    const impostor = await graph.asMember(program.programId, null, 'idp|impostor');
    await selfEnrol(impostor, program.programId);
    await graph.deliverEvents();

    // A misconfigured identity provider gives the impostor's login the victim's member id.
    const contradicting = graph.withToken(await graph.tokens.member({ programId: program.programId, subject: 'idp|impostor', memberId: victimId }));
    for (const query of [ME, POINTS_OF]) {
      const response = await contradicting.send(query, { id: victimId });
      expect(errorCodes(response), JSON.stringify(response.errors)).toContain('UNAUTHENTICATED');
      // The caller (or their identity provider's admin) learns what is wrong with the token.
      expect(response.errors!.map((e) => e.message)).toContain('The access token names a member other than the one its subject enrolled as in this program');
      expect(JSON.stringify(response.data ?? null)).not.toContain('"posted"');
    }
    // The token that agrees with the enrolment is fine.
    const agreeing = graph.withToken(await graph.tokens.member({ programId: program.programId, subject: 'idp|victim', memberId: victimId }));
    expect((await agreeing.data<Me>(ME)).me!.id).toBe(victimId);
  });

  it('keeps working with a memberId claim for members enrolled by staff (no login subject on record)', async () => {
    const { enrollMember } = await program.agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, { p: program.programId, e: 'desk@example.com' });
    const memberId = enrollMember.member.id;
    await graph.deliverEvents();
    const member = await graph.asMember(program.programId, memberId, 'idp|desk-member');
    expect((await member.data<Me>(ME)).me!.id).toBe(memberId);
  });
});

// Last: it stops members for the rest of this file.
describe('with members down', () => {
  it('answers a login the ledger has not seen yet, and a purchase for a member it does not know, with a retryable SUBGRAPH_UNAVAILABLE', async () => {
    const member = await graph.asMember(program.programId, null, 'idp|late-comer');
    const memberId = await selfEnrol(member, program.programId);
    // Members' events are not delivered: the ledger knows neither the login nor the member.
    await graph.subgraphs['members']!.stop();

    // A ledger field alone: the ledger must ask members who this login is, and cannot.
    const entry = await member.send<{ journalEntry: unknown }>(`query($id: ID!) { journalEntry(id: $id) { id } }`, { id: randomUUID() });
    expect(errorCodes(entry), JSON.stringify(entry.errors)).toEqual(['SUBGRAPH_UNAVAILABLE']);
    expect(entry.errors![0]!.extensions).toMatchObject({ retryable: true });

    const purchase = await program.agent.send(`mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code } } }`, {
      input: { idempotencyKey: `down-${memberId}`, memberId, source: 'till', externalId: `down-${memberId}`, basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'A', category: 'food', quantity: 1, amount: '10.00' }] } },
    });
    const unavailable = (purchase.errors ?? []).find((e) => e.extensions?.['code'] === 'SUBGRAPH_UNAVAILABLE');
    expect(unavailable?.extensions, JSON.stringify(purchase.errors)).toMatchObject({ service: 'members', retryable: true });
    expect(errorCodes(purchase)).not.toContain('INTERNAL_SERVER_ERROR');
  });
});
