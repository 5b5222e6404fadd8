import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersSubgraph } from '@loyalty-graph/members';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { errorCodes, startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { MemberEntity } from '../src/entities/member';
import { MemberIdentifierEntity } from '../src/entities/member-identifier';

/**
 * The members subgraph on its own, called the way the gateway calls it: entity resolution for
 * other subgraphs must be batched and policy-checked, and enrolment must hold under concurrency.
 */

let sub: RunningSubgraph;
let operator: Caller;
let service: Caller;

const OPERATOR: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'op' };

/** Exactly the operation the gateway sends when another subgraph's data references members. */
const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Member { id status } } }`;
const ENROLL = `mutation($programId: ID!, $email: String!) {
  enrollMember(input: { programId: $programId, identifiers: [{ type: EMAIL, value: $email }] }) { member { id } userErrors { code field } }
}`;

type Entities = { _entities: ({ id: string; status: string } | null)[] };
const representations = (ids: string[]) => ids.map((id) => ({ __typename: 'Member', id }));

async function createProgram(name: string): Promise<string> {
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation($name: String!) {
      createProgram(input: { name: $name, type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } }
    }`,
    { name },
  );
  return createProgram.program.id;
}

/** Inserts members straight into the table (one statement); returns their ids in insert order. */
async function seedMembers(programId: string, count: number): Promise<string[]> {
  const now = new Date();
  const rows = Array.from({ length: count }, (_, i) => ({
    programId,
    subject: null,
    status: 'ACTIVE' as const,
    statusReason: null,
    firstName: `Member ${i}`,
    lastName: null,
    birthDate: null,
    preferredLanguage: null,
    tierId: null,
    enrolledVia: 'AGENT' as const,
    enrolledAt: now,
    updatedAt: now,
  }));
  const result = await sub.db.getRepository(MemberEntity).insert(rows);
  return result.identifiers.map((identifier) => String(identifier['id']));
}

let programId: string;
let memberIds: string[];

beforeAll(async () => {
  sub = await startTestSubgraph(membersSubgraph as unknown as SubgraphModule<ViewerContext>);
  operator = await sub.as(OPERATOR);
  service = await sub.as(serviceViewer('orders'));
  programId = await createProgram('Entities');
  memberIds = await seedMembers(programId, 200);
});
afterAll(() => sub?.stop());

describe('_entities for Member', () => {
  it('resolves 200 representations in the order asked, with one SQL statement', async () => {
    // Ask in an order the database would not return on its own.
    const asked = [...memberIds].reverse().sort((a, b) => a.slice(-4).localeCompare(b.slice(-4)));
    sub.statements.reset();
    const { _entities } = await service.data<Entities>(ENTITIES, { representations: representations(asked) });

    expect(_entities).toHaveLength(200);
    expect(_entities.map((m) => m?.id)).toEqual(asked);
    expect(_entities.every((m) => m?.status === 'ACTIVE')).toBe(true);
    expect(sub.statements.dataStatements()).toHaveLength(1);
  });

  it('returns null in the position of an id nobody has, and resolves the rest', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await service.send<Entities>(ENTITIES, { representations: representations([memberIds[0]!, unknown, memberIds[1]!]) });
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([{ id: memberIds[0], status: 'ACTIVE' }, null, { id: memberIds[1], status: 'ACTIVE' }]);
  });

  it('lets a member resolve only themself: another member’s representation is FORBIDDEN', async () => {
    const [own, other] = [memberIds[10]!, memberIds[11]!];
    const member = await sub.as({ ...ANONYMOUS, kind: 'MEMBER', programId, memberId: own, subject: 'member-10' });
    const res = await member.send<Entities>(ENTITIES, { representations: representations([other, own]) });

    expect(res.data?._entities).toEqual([null, { id: own, status: 'ACTIVE' }]);
    expect(errorCodes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors?.[0]?.path).toEqual(['_entities', 0]);
    expect(JSON.stringify(res)).not.toContain(other);
  });
});

describe('concurrent enrolment', () => {
  it('lets exactly one of ten simultaneous enrolments with the same email succeed; the rest get IDENTIFIER_TAKEN', async () => {
    const program = await createProgram('Race');
    const email = 'race@example.com';
    const results = await Promise.all(
      Array.from({ length: 10 }, () => operator.data<{ enrollMember: { member: { id: string } | null; userErrors: { code: string; field: string }[] } }>(ENROLL, { programId: program, email })),
    );

    const winners = results.filter((r) => r.enrollMember.member !== null);
    const losers = results.filter((r) => r.enrollMember.member === null);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.enrollMember.userErrors).toEqual([]);
    expect(losers).toHaveLength(9);
    for (const loser of losers) expect(loser.enrollMember.userErrors).toEqual([{ code: 'IDENTIFIER_TAKEN', field: 'identifiers' }]);

    // The losers' transactions rolled back completely: one member, one identifier row.
    expect(await sub.db.getRepository(MemberIdentifierEntity).countBy({ programId: program, type: 'EMAIL', value: email })).toBe(1);
    expect(await sub.db.getRepository(MemberEntity).findBy({ programId: program })).toEqual([expect.objectContaining({ id: winners[0]!.enrollMember.member!.id })]);
  });
});

describe('memberByIdentifier (the till)', () => {
  it('reads the member, their status and their tier in one SQL statement', async () => {
    const tillProgram = await createProgram('Till');
    await operator.data(`mutation($p: ID!) { createTier(input: { programId: $p, name: "Bronze", rank: 0, qualifyingThreshold: 0 }) { tier { id } } }`, { p: tillProgram });
    await operator.data(ENROLL, { programId: tillProgram, email: 'till@example.com' });

    sub.statements.reset();
    const { memberByIdentifier } = await service.data<{ memberByIdentifier: { status: string; tier: { name: string } } }>(
      `query($p: ID!) { memberByIdentifier(programId: $p, type: EMAIL, value: "TILL@example.com") { id status tier { name rank qualifyingThreshold } } }`,
      { p: tillProgram },
    );
    expect(memberByIdentifier).toMatchObject({ status: 'ACTIVE', tier: { name: 'Bronze', qualifyingThreshold: 0 } });
    expect(sub.statements.dataStatements()).toHaveLength(1);
  });
});
