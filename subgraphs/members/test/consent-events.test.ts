import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersSubgraph } from '@loyalty-graph/members';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { membersReadThrough } from '@loyalty-graph/shared/member-snapshots';
import { type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { ConsentsAnnounced1796820000001 } from '../src/migrations/1796820000001-consents-announced';

/**
 * Consents as facts other subgraphs use (ConsentsChanged), against real PostgreSQL: announced in
 * the transaction that changes them, with the member's whole current set, after MemberEnrolled
 * when given at enrolment, never when nothing changed; and consistent with the table when changes
 * of one member come at the same moment.
 */

let sub: RunningSubgraph & { internalSecret: string };
let programId: string;
let agent: Caller;

const OPERATOR: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'op' };
const ENROL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } userErrors { code } } }`;
const SET = `mutation($input: SetConsentsInput!) { setConsents(input: $input) { member { id } userErrors { code field } } }`;

type Decision = { channel: string; purpose: string; granted: boolean };

beforeAll(async () => {
  sub = await startTestSubgraph(membersSubgraph as unknown as SubgraphModule<ViewerContext>);
  const operator = await sub.as(OPERATOR);
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Consents", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
  );
  programId = createProgram.program.id;
  agent = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent' });
});
afterAll(() => sub?.stop());

let n = 0;
async function enrol(consents: Decision[] = []): Promise<string> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, { input: { programId, identifiers: [{ type: 'EMAIL', value: `consent-${++n}@example.com` }], consents } });
  return enrollMember.member.id;
}
const set = (memberId: string, consents: Decision[]) => agent.data(SET, { input: { memberId, consents, source: 'HOTLINE' } });

/** The member's events, in their order. */
async function events(memberId: string): Promise<{ type: string; version: number; payload: { consents?: Decision[] } }[]> {
  return (await sub.db.query(`SELECT event_type AS type, aggregate_version AS version, payload FROM outbox WHERE aggregate_id = $1 ORDER BY aggregate_version`, [memberId])) as never;
}
const consentSets = async (memberId: string) => (await events(memberId)).filter((e) => e.type === 'ConsentsChanged').map((e) => e.payload.consents);

describe('ConsentsChanged', () => {
  it('follows MemberEnrolled when consents are given at enrolment, with the whole set', async () => {
    const member = await enrol([
      { channel: 'PUSH', purpose: 'PARTNER_MARKETING', granted: true },
      { channel: 'EMAIL', purpose: 'MARKETING', granted: false },
    ]);
    const all = await events(member);
    expect(all.map((e) => e.type)).toEqual(['MemberEnrolled', 'ConsentsChanged']);
    expect(all[1]!.payload.consents).toEqual([
      { channel: 'EMAIL', purpose: 'MARKETING', granted: false },
      { channel: 'PUSH', purpose: 'PARTNER_MARKETING', granted: true },
    ]);
    // Enrolment without consents says nothing about them (every consumer starts at "not granted").
    expect((await events(await enrol())).map((e) => e.type)).toEqual(['MemberEnrolled']);
  });

  it('carries the whole current set on every change, and is not emitted when nothing changed', async () => {
    const member = await enrol([{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true }]);
    await set(member, [{ channel: 'SMS', purpose: 'PARTNER_MARKETING', granted: true }]);
    await set(member, [{ channel: 'SMS', purpose: 'PARTNER_MARKETING', granted: true }]);
    await set(member, [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: false }]);
    expect(await consentSets(member)).toEqual([
      [{ channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true }],
      [
        { channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true },
        { channel: 'SMS', purpose: 'PARTNER_MARKETING', granted: true },
      ],
      [
        { channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: false },
        { channel: 'SMS', purpose: 'PARTNER_MARKETING', granted: true },
      ],
    ]);
  });

  it('ends with the table’s state when changes of one member come at the same moment', async () => {
    const member = await enrol();
    const channels = ['EMAIL', 'SMS', 'PUSH', 'POST'];
    await Promise.all(channels.map((channel) => set(member, [{ channel, purpose: 'PARTNER_SHARING', granted: true }])));
    const sets = await consentSets(member);
    expect(sets).toHaveLength(4);
    // Each change is made under the member's row lock, so every set holds the one before it.
    sets.forEach((s, i) => expect(s).toHaveLength(i + 1));
    const rows = (await sub.db.query(`SELECT channel, purpose, granted FROM consents WHERE member_id = $1 ORDER BY channel, purpose`, [member])) as Decision[];
    expect(sets.at(-1)).toEqual(rows);
  });

  it('gives a service reading members directly the member’s consents to partners (the snapshots’ read-through)', async () => {
    const sharing = await enrol([{ channel: 'POST', purpose: 'PARTNER_SHARING', granted: true }]);
    const none = await enrol([{ channel: 'POST', purpose: 'PARTNER_MARKETING', granted: false }]);
    const [a, b] = await membersReadThrough(() => sub.url, 'partners', sub.internalSecret)([sharing, none]);
    expect(a).toMatchObject({ sharesWithPartners: true, partnerMarketing: false });
    expect(b).toMatchObject({ sharesWithPartners: false, partnerMarketing: false });
  });

  it('announces the consents given before the event existed, one set per member (the migration)', async () => {
    const member = await enrol();
    await sub.db.query(
      `INSERT INTO consents (member_id, channel, purpose, granted, source, updated_at) VALUES ($1, 'EMAIL', 'PARTNER_SHARING', true, 'IMPORT', '2026-01-01T10:00:00Z'), ($1, 'PUSH', 'MARKETING', false, 'IMPORT', '2026-02-01T10:00:00Z')`,
      [member],
    );
    await sub.db.query(`DELETE FROM outbox WHERE event_type = 'ConsentsChanged'`);
    const runner = sub.db.createQueryRunner();
    try {
      await new ConsentsAnnounced1796820000001().up(runner);
    } finally {
      await runner.release();
    }
    const announced = (await events(member)).filter((e) => e.type === 'ConsentsChanged');
    expect(announced).toHaveLength(1);
    // Exactly the contract's fields, as a consumer parses them.
    expect(membersEvents.events.ConsentsChanged.payload.strict().parse(announced[0]!.payload)).toEqual({
      programId,
      memberId: member,
      consents: [
        { channel: 'EMAIL', purpose: 'PARTNER_SHARING', granted: true },
        { channel: 'PUSH', purpose: 'MARKETING', granted: false },
      ],
      changedAt: '2026-02-01T10:00:00.000Z',
    });
  });
});
