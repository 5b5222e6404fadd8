import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersSubgraph } from '@loyalty-graph/members';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import { membersEvents } from '@loyalty-graph/shared/contracts';
import { type SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';
import { ProfilesAnnounced1797010000001 } from '../src/migrations/1797010000001-profiles-announced';

/**
 * The profile fields segments may use, as facts other subgraphs read (MemberProfileChanged),
 * against real PostgreSQL: announced in the transaction that changes them, after MemberEnrolled
 * when given at enrolment, with the current birth date and language only (never names), and never
 * when neither changed; and the migration announcing profiles given before the event existed.
 */

let sub: RunningSubgraph & { internalSecret: string };
let programId: string;
let agent: Caller;

const OPERATOR: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'op' };
const ENROL = `mutation($input: EnrollMemberInput!) { enrollMember(input: $input) { member { id } userErrors { code } } }`;
const UPDATE = `mutation($input: UpdateMemberProfileInput!) { updateMemberProfile(input: $input) { member { id } userErrors { code field } } }`;

type Profile = { firstName?: string | null; lastName?: string | null; birthDate?: string | null; preferredLanguage?: string | null };

beforeAll(async () => {
  sub = await startTestSubgraph(membersSubgraph as unknown as SubgraphModule<ViewerContext>);
  const operator = await sub.as(OPERATOR);
  const { createProgram } = await operator.data<{ createProgram: { program: { id: string } } }>(
    `mutation { createProgram(input: { name: "Profiles", type: RECOGNITION, pointsCurrencyName: "points", pointValue: { amount: "0.01", currency: "EUR" }, status: ACTIVE }) { program { id } } }`,
  );
  programId = createProgram.program.id;
  agent = await sub.as({ ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent' });
});
afterAll(() => sub?.stop());

let n = 0;
async function enrol(profile: Profile = {}): Promise<string> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string } } }>(ENROL, {
    input: { programId, profile, identifiers: [{ type: 'EMAIL', value: `profile-${++n}@example.com` }], consents: [{ channel: 'EMAIL', purpose: 'PROFILING', granted: true }] },
  });
  return enrollMember.member.id;
}
const update = (memberId: string, profile: Profile) => agent.data(UPDATE, { input: { memberId, profile } });

/** The member's events, in their order. */
async function events(memberId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  return (await sub.db.query(`SELECT event_type AS type, payload FROM outbox WHERE aggregate_id = $1 ORDER BY aggregate_version`, [memberId])) as never;
}
const profiles = async (memberId: string) =>
  (await events(memberId)).filter((e) => e.type === 'MemberProfileChanged').map((e) => ({ birthDate: e.payload.birthDate, preferredLanguage: e.payload.preferredLanguage }));

describe('MemberProfileChanged', () => {
  it('follows MemberEnrolled when a birth date or language is given at enrolment, with exactly the contract’s fields (no names)', async () => {
    const member = await enrol({ firstName: 'Ann', lastName: 'Nowak', birthDate: '1990-04-01', preferredLanguage: 'en-GB' });
    const all = await events(member);
    expect(all.map((e) => e.type)).toEqual(['MemberEnrolled', 'ConsentsChanged', 'MemberProfileChanged']);
    const payload = membersEvents.events.MemberProfileChanged.payload.strict().parse(all[2]!.payload);
    expect(payload).toEqual({ programId, memberId: member, birthDate: '1990-04-01', preferredLanguage: 'en-GB', changedAt: expect.any(String) as string });
    expect(JSON.stringify(all[2]!.payload)).not.toMatch(/Ann|Nowak/);
    // Names only, or no profile at all: nothing to tell.
    expect((await events(await enrol({ firstName: 'Bob' }))).map((e) => e.type)).toEqual(['MemberEnrolled', 'ConsentsChanged']);
    expect((await events(await enrol())).map((e) => e.type)).toEqual(['MemberEnrolled', 'ConsentsChanged']);
  });

  it('is emitted by updateMemberProfile when the birth date or language changes, with both current values; not for names or the same values', async () => {
    const member = await enrol({ firstName: 'Cat' });
    await update(member, { birthDate: '1985-12-24' });
    await update(member, { firstName: 'Catherine', lastName: 'Smith' });
    await update(member, { birthDate: '1985-12-24' });
    await update(member, { preferredLanguage: 'pl' });
    await update(member, { birthDate: null });
    expect(await profiles(member)).toEqual([
      { birthDate: '1985-12-24', preferredLanguage: null },
      { birthDate: '1985-12-24', preferredLanguage: 'pl' },
      { birthDate: null, preferredLanguage: 'pl' },
    ]);
  });

  it('announces the birth dates and languages given before the event existed, once per member who has either (the migration)', async () => {
    const member = await enrol({ firstName: 'Dan', birthDate: '1970-01-31' });
    const nameOnly = await enrol({ firstName: 'Eve' });
    await sub.db.query(`UPDATE members SET updated_at = '2026-03-01T09:00:00Z' WHERE id = $1`, [member]);
    await sub.db.query(`DELETE FROM outbox WHERE event_type = 'MemberProfileChanged'`);
    const runner = sub.db.createQueryRunner();
    try {
      await new ProfilesAnnounced1797010000001().up(runner);
    } finally {
      await runner.release();
    }
    const announced = (await events(member)).filter((e) => e.type === 'MemberProfileChanged');
    expect(announced).toHaveLength(1);
    expect(membersEvents.events.MemberProfileChanged.payload.strict().parse(announced[0]!.payload)).toEqual({
      programId,
      memberId: member,
      birthDate: '1970-01-31',
      preferredLanguage: null,
      changedAt: '2026-03-01T09:00:00.000Z',
    });
    expect(await profiles(nameOnly)).toEqual([]);
  });
});
