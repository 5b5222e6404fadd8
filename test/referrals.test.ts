import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';
import { tierProgram, type TierProgram } from './support/tier-program';

/**
 * Referrals through the gateway: members decides a referral qualified (on the friend's enrolment
 * or first purchase), the ledger credits the bonuses from that event, exactly once.
 */
let graph: TestSupergraph;

beforeAll(async () => {
  graph = await startSupergraph();
  graph.clock.set(new Date('2026-06-10T12:00:00Z'));
});
afterAll(() => graph?.stop());

async function configureReferrals(p: TierProgram, trigger: string | null, referrerBonus: number, refereeBonus: number) {
  const { configureReferrals } = await p.admin.data<{ configureReferrals: { program: { referralRules: unknown }; userErrors: unknown[] } }>(
    `mutation($input: ConfigureReferralsInput!) { configureReferrals(input: $input) { program { referralRules { trigger referrerBonus refereeBonus } } userErrors { code field } } }`,
    { input: { programId: p.id, trigger, referrerBonus, refereeBonus } },
  );
  expect(configureReferrals.userErrors).toEqual([]);
  expect(configureReferrals.program.referralRules).toEqual({ trigger, referrerBonus, refereeBonus });
}

const REFERRALS = `query($id: ID!) { member(id: $id) { referrals { status referrerBonus refereeBonus referee { id } qualifiedAt } referredBy { status referrer { id } } } }`;

describe('referrals', () => {
  it('credit both members once when the friend makes a first purchase, however often the events arrive', async () => {
    const p = await tierProgram(graph, 'Refer on purchase', {});
    await configureReferrals(p, 'FIRST_PURCHASE', 500, 200);
    const referrer = await p.enroll('referrer@example.com');
    const { referralCode } = await p.member(referrer);
    // Typed by a person from a flyer: lower case, with a dash.
    const friend = await p.enroll('friend@example.com', `${referralCode.slice(0, 4).toLowerCase()}-${referralCode.slice(4)}`);

    await graph.deliverEvents();
    expect(await p.points(referrer)).toMatchObject({ available: 0 });
    // A later change of the program's trigger does not strand a referral made under the old one.
    await configureReferrals(p, 'ENROLMENT', 500, 200);
    const pending = await p.agent.data<{ member: { referrals: { status: string }[] } }>(REFERRALS, { id: referrer });
    expect(pending.member.referrals).toMatchObject([{ status: 'PENDING', referee: { id: friend } }]);

    await p.buy(friend, 30);
    await p.buy(friend, 20);
    await graph.deliverEvents();
    expect(await p.points(referrer)).toMatchObject({ available: 500, statusPoints: 0 });
    expect(await p.points(friend)).toMatchObject({ available: 250, statusPoints: 50 });
    const qualified = await p.agent.data<{ member: { referrals: unknown[] } }>(REFERRALS, { id: referrer });
    expect(qualified.member.referrals).toMatchObject([{ status: 'QUALIFIED', referrerBonus: 500, refereeBonus: 200 }]);

    // Both feeds replayed from the start, processed records forgotten (a projection rebuild):
    // the ledger's own key still pays each bonus once.
    for (const subgraph of Object.values(graph.subgraphs)) for (const consumer of subgraph.consumers) await consumer.rewind(0, { forget: consumer.name.startsWith('ledger') });
    await graph.deliverEvents();
    expect(await p.points(referrer)).toMatchObject({ available: 500 });
    expect(await p.points(friend)).toMatchObject({ available: 250 });

    // The referrer's statement shows where the points came from.
    const { member } = await p.agent.data<{ member: { statement: { edges: { node: { kind: string; memberAmount: number } }[] } } }>(
      `query($id: ID!) { member(id: $id) { statement(first: 5) { edges { node { kind memberAmount } } } } }`,
      { id: referrer },
    );
    expect(member.statement.edges.map((e) => e.node)).toEqual([{ kind: 'BONUS', memberAmount: 500 }]);
  });

  it('credit at enrolment when the program says so, to the friend only when only the friend gets a bonus', async () => {
    const p = await tierProgram(graph, 'Refer on enrolment', {});
    await configureReferrals(p, 'ENROLMENT', 0, 300);
    const referrer = await p.enroll('ref2@example.com');
    const friend = await p.enroll('friend2@example.com', (await p.member(referrer)).referralCode);
    await graph.deliverEvents();
    expect(await p.points(friend)).toMatchObject({ available: 300 });
    expect(await p.points(referrer)).toMatchObject({ available: 0 });
    // The friend's events in order: enrolled, then the referral it qualified.
    const events = (await graph.subgraphs['members']!.db.query(`SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY aggregate_version`, [friend])) as { event_type: string }[];
    expect(events.map((e) => e.event_type)).toEqual(['MemberEnrolled', 'ReferralQualified']);
    const asFriend = await graph.asMember(p.id, friend);
    const { member } = await asFriend.data<{ member: { referredBy: { status: string; referrer: unknown } } }>(REFERRALS, { id: friend });
    // The friend sees the referral but not the referrer's profile.
    expect(member.referredBy).toEqual({ status: 'QUALIFIED', referrer: null });
  });

  it('refuse an unknown code and enrol nobody; a program without bonuses records the referral and pays nothing', async () => {
    const p = await tierProgram(graph, 'Refer unknown', {});
    const attempt = await p.agent.data<{ enrollMember: { member: unknown; userErrors: { code: string; field: string }[] } }>(
      `mutation($p: ID!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: "nobody@example.com" }], referralCode: "ZZZZ9999" }) { member { id } userErrors { code field } } }`,
      { p: p.id },
    );
    expect(attempt.enrollMember).toEqual({ member: null, userErrors: [{ code: 'REFERRAL_CODE_NOT_FOUND', field: 'referralCode' }] });
    // Nothing was left behind: the same email enrols fine.
    const referrer = await p.enroll('nobody@example.com');
    const friend = await p.enroll('friend3@example.com', (await p.member(referrer)).referralCode);
    await p.buy(friend, 10);
    await graph.deliverEvents();
    expect(await p.points(referrer)).toMatchObject({ available: 0 });
    const { member } = await p.agent.data<{ member: { referrals: { status: string }[] } }>(REFERRALS, { id: referrer });
    expect(member.referrals).toMatchObject([{ status: 'PENDING' }]);
  });
});
