import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * The ledger knows members (program, status, tier) from members' events, kept in its own
 * database: it needs no call to members for a member it has heard of. Through the gateway, as
 * a till and an agent use it.
 */
let graph: TestSupergraph;
let programId: string;
let agent: Caller;
let admin: Caller;
let bronzeId: string;
let goldId: string;
let n = 0;

const RECORD = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { points } userErrors { code field } } }`;
const ENROL = `mutation($p: ID!, $email: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $email }] }) { member { id tier { id } } userErrors { code } } }`;
const STATUS = `mutation($id: ID!, $status: MemberStatus!) { changeMemberStatus(input: { memberId: $id, status: $status, reason: "test" }) { member { status } userErrors { code } } }`;

async function enrol(): Promise<{ id: string; tier: { id: string } | null }> {
  const { enrollMember } = await agent.data<{ enrollMember: { member: { id: string; tier: { id: string } | null } } }>(ENROL, { p: programId, email: `fact${++n}@example.com` });
  return enrollMember.member;
}

/** A 10.00 EUR purchase at the till; returns its points or the refusal's code. */
async function purchase(memberId: string): Promise<number | string> {
  const response = await agent.send<{ recordPurchase: { purchase: { points: number } | null; userErrors: { code: string }[] } }>(RECORD, {
    input: { idempotencyKey: `facts-${++n}-key`, memberId, source: 'till', externalId: `F-${n}`, basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'X', category: 'misc', quantity: 1, amount: '10.00' }] } },
  });
  if (response.errors?.length) return `error: ${response.errors.map((e) => e.extensions?.['code']).join(',')}`;
  return response.data!.recordPurchase.purchase?.points ?? response.data!.recordPurchase.userErrors.map((e) => e.code).join(',');
}

beforeAll(async () => {
  graph = await startSupergraph();
  ({ programId, agent, admin } = await createTestProgram(graph, { rules: null }));
  const tier = async (name: string, rank: number, threshold: number) =>
    (
      await admin.data<{ createTier: { tier: { id: string } } }>(
        `mutation($p: ID!, $name: String!, $rank: Int!, $t: Int!) { createTier(input: { programId: $p, name: $name, rank: $rank, qualifyingThreshold: $t }) { tier { id } } }`,
        { p: programId, name, rank, t: threshold },
      )
    ).createTier.tier.id;
  bronzeId = await tier('Bronze', 0, 0);
  goldId = await tier('Gold', 1, 1_000_000);
  // Gold members earn triple: the ledger must know a member's tier to pay it.
  await admin.data(
    `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code } } }`,
    { input: { programId, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', multipliers: [{ dimension: 'TIER', value: goldId, factor: '3' }] } },
  );
});
afterAll(() => graph?.stop());

describe("the ledger's knowledge of members", () => {
  it('lets a member earn right after enrolment, before the enrolment event has arrived', async () => {
    const member = await enrol();
    expect(member.tier?.id).toBe(bronzeId);
    expect(await purchase(member.id)).toBe(10);
  });

  it('stops a suspended member earning once the suspension is applied, and lets them earn again when reactivated', async () => {
    const member = await enrol();
    await graph.deliverEvents();
    expect((await agent.data<{ changeMemberStatus: { member: { status: string } } }>(STATUS, { id: member.id, status: 'SUSPENDED' })).changeMemberStatus.member.status).toBe('SUSPENDED');
    await graph.deliverEvents();
    expect(await purchase(member.id)).toBe('MEMBER_NOT_ACTIVE');
    await agent.data(STATUS, { id: member.id, status: 'ACTIVE' });
    await graph.deliverEvents();
    expect(await purchase(member.id)).toBe(10);
  });

  it('earns at the tier members announced', async () => {
    const member = await enrol();
    await agent.data(`mutation($id: ID!, $tier: ID) { assignMemberTier(input: { memberId: $id, tierId: $tier, reason: "VIP" }) { userErrors { code } } }`, { id: member.id, tier: goldId });
    await graph.deliverEvents();
    expect(await purchase(member.id)).toBe(30);
  });

  it('keeps known members earning while the members subgraph is down', async () => {
    const known = await enrol();
    const gold = await enrol();
    await agent.data(`mutation($id: ID!, $tier: ID) { assignMemberTier(input: { memberId: $id, tierId: $tier, reason: "VIP" }) { userErrors { code } } }`, { id: gold.id, tier: goldId });
    const suspended = await enrol();
    await agent.data(STATUS, { id: suspended.id, status: 'SUSPENDED' });
    await graph.deliverEvents();
    const unheardOf = await enrol();

    await graph.subgraphs['members']!.stop();
    expect(await purchase(known.id)).toBe(10);
    expect(await purchase(gold.id)).toBe(30);
    expect(await purchase(suspended.id)).toBe('MEMBER_NOT_ACTIVE');
    // A member whose enrolment has not arrived can only be asked about, and nobody answers: refused, nothing recorded.
    expect(await purchase(unheardOf.id)).toMatch(/^error: /);
  });
});
