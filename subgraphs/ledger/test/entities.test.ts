import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, serviceViewer, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller } from '@loyalty-graph/testing';

/**
 * The ledger on its own, called the way the gateway calls it: `_entities` for the types other
 * subgraphs reference, resolved at the injected clock's time.
 */
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
const programId = randomUUID();
const DAY = 86_400_000;

const ADMIN: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN', 'AGENT'], subject: 'admin-1' };

beforeAll(async () => {
  sub = await startTestSubgraph(ledgerSubgraph as unknown as SubgraphModule<ViewerContext>);
  admin = await sub.as(ADMIN);
});
afterAll(() => sub?.stop());

describe('_entities for Program', () => {
  it('answers earningRules with the version in force at the injected clock’s time', async () => {
    const publish = (effectiveFrom: Date | null) =>
      admin.data(
        `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { ruleSet { version } userErrors { code } } }`,
        { input: { programId, effectiveFrom, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR' } },
      );
    await publish(null);
    await publish(new Date(sub.clock.now().getTime() + DAY));
    const rulesInForce = async () => {
      const { _entities } = await admin.data<{ _entities: { earningRules: { version: number } | null }[] }>(
        `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Program { earningRules { version } } } }`,
        { representations: [{ __typename: 'Program', id: programId }] },
      );
      return _entities[0]!.earningRules?.version;
    };

    expect(await rulesInForce()).toBe(1);
    sub.clock.advance(2 * DAY);
    expect(await rulesInForce()).toBe(2);
  });
});

describe('_entities for Charity', () => {
  /** Exactly the operation the gateway sends when another subgraph's data references charities. */
  const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Charity { id name donatedPoints } } }`;
  type Entities = { _entities: ({ id: string; name: string; donatedPoints: string } | null)[] };
  let charities: string[];

  beforeAll(async () => {
    charities = [];
    for (const name of ['Red Cross', 'Food Bank', 'Animal Shelter', 'Library', 'Sea Rescue']) {
      const { createCharity } = await admin.data<{ createCharity: { charity: { id: string } } }>(
        `mutation($input: CreateCharityInput!) { createCharity(input: $input) { charity { id } userErrors { code } } }`,
        { input: { programId, name } },
      );
      charities.push(createCharity.charity.id);
    }
    // A member the ledger knows (from members' events, here written by hand) gives 30 points to the second charity.
    const memberId = randomUUID();
    await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at) VALUES ($1, $2, 'ACTIVE', NULL, 1, $3)`, [memberId, programId, sub.clock.now()]);
    await admin.data(`mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { code } } }`, {
      input: { idempotencyKey: 'entities-adjust-1', memberId, points: 100, reasonCode: 'GOODWILL', comment: 'Welcome' },
    });
    const { donatePoints } = await admin.data<{ donatePoints: { userErrors: unknown[] } }>(`mutation($input: DonatePointsInput!) { donatePoints(input: $input) { userErrors { code } } }`, {
      input: { idempotencyKey: 'entities-donate-1', memberId, charityId: charities[1], points: 30 },
    });
    expect(donatePoints.userErrors).toEqual([]);
  });

  it('resolves several representations in the order asked with one SQL statement; unknown and malformed ids are null', async () => {
    const service = await sub.as(serviceViewer('catalog'));
    const unknown = '00000000-0000-4000-8000-000000000000';
    const asked = [charities[3]!, unknown, charities[1]!, charities[0]!, 'not-a-charity', charities[4]!];
    sub.statements.reset();
    const { _entities } = await service.data<Entities>(ENTITIES, { representations: asked.map((id) => ({ __typename: 'Charity', id })) });

    expect(_entities).toEqual([
      { id: charities[3], name: 'Library', donatedPoints: '0' },
      null,
      { id: charities[1], name: 'Food Bank', donatedPoints: '30' },
      { id: charities[0], name: 'Red Cross', donatedPoints: '0' },
      null,
      { id: charities[4], name: 'Sea Rescue', donatedPoints: '0' },
    ]);
    expect(sub.statements.dataStatements()).toHaveLength(1);
  });
});
