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

describe('_entities under the ledger’s policy', () => {
  // Other subgraphs return references to the ledger's records (a reward order's hold, a settlement
  // line's purchase, a charity): whoever the gateway resolves them for sees only what they may.
  const memberId = randomUUID();
  const otherProgram = randomUUID();
  let refs: { purchase: string; hold: string; account: string; charity: string };
  const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) {
    ... on Purchase { id points } ... on PointsHold { id points } ... on LedgerAccount { id kind } ... on Charity { id name } } }`;

  beforeAll(async () => {
    await sub.db.query(`INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at) VALUES ($1, $2, 'ACTIVE', NULL, 1, $3)`, [memberId, programId, sub.clock.now()]);
    await admin.data(`mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { userErrors { code } } }`, {
      input: { idempotencyKey: 'policy-adjust-1', memberId, points: 100, reasonCode: 'GOODWILL', comment: 'Welcome' },
    });
    const { recordPurchase } = await admin.data<{ recordPurchase: { purchase: { id: string } } }>(
      `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) { purchase { id } userErrors { code message } } }`,
      { input: { idempotencyKey: 'policy-purchase-1', memberId, source: 'till', externalId: 'policy-1', basket: { currency: 'EUR', channel: 'STORE', lines: [{ lineId: '1', sku: 'A', category: 'food', quantity: 1, amount: '10.00' }] } } },
    );
    const { holdPoints } = await admin.data<{ holdPoints: { hold: { id: string } } }>(
      `mutation($input: HoldPointsInput!) { holdPoints(input: $input) { hold { id } userErrors { code } } }`,
      { input: { idempotencyKey: 'policy-hold-1', memberId, points: 10, reference: 'order-1' } },
    );
    const { createCharity } = await admin.data<{ createCharity: { charity: { id: string } } }>(
      `mutation($input: CreateCharityInput!) { createCharity(input: $input) { charity { id } userErrors { code } } }`,
      { input: { programId, name: 'Policy Shelter' } },
    );
    const account = (await sub.db.query(`SELECT id FROM accounts WHERE owner_id = $1 LIMIT 1`, [memberId])) as { id: string }[];
    refs = { purchase: recordPurchase.purchase.id, hold: holdPoints.hold.id, account: account[0]!.id, charity: createCharity.charity.id };
  });

  const ask = async (viewer: Viewer, typename: string, id: string) => {
    const caller = await sub.as(viewer);
    return caller.send(ENTITIES, { representations: [{ __typename: typename, id }] });
  };
  const codes = (response: { errors?: { extensions?: { code?: string } }[] }) => (response.errors ?? []).map((e) => e.extensions?.code);

  it('the member, their program’s agents and internal services read the member’s purchase, hold and account', async () => {
    const viewers: Viewer[] = [
      { ...ANONYMOUS, kind: 'MEMBER', programId, memberId, subject: 'idp|owner' },
      { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['AGENT'], subject: 'agent-1' },
      serviceViewer('catalog'),
    ];
    for (const viewer of viewers) {
      for (const [typename, id] of [['Purchase', refs.purchase], ['PointsHold', refs.hold], ['LedgerAccount', refs.account], ['Charity', refs.charity]] as const) {
        const response = await ask(viewer, typename, id);
        expect(codes(response), `${viewer.kind} reading ${typename}`).toEqual([]);
        expect((response.data as { _entities: { id: string }[] })._entities[0]?.id).toBe(id);
      }
    }
  });

  it('anonymous callers, other members and other programs’ staff are refused every one of them', async () => {
    const viewers: Viewer[] = [
      ANONYMOUS,
      { ...ANONYMOUS, kind: 'MEMBER', programId, memberId: randomUUID(), subject: 'idp|someone-else' },
      { ...ANONYMOUS, kind: 'STAFF', programId: otherProgram, roles: ['ADMIN', 'AGENT'], subject: 'admin-elsewhere' },
    ];
    for (const viewer of viewers) {
      for (const [typename, id] of [['Purchase', refs.purchase], ['PointsHold', refs.hold], ['LedgerAccount', refs.account]] as const) {
        const response = await ask(viewer, typename, id);
        expect(codes(response), `${viewer.kind} ${viewer.subject} reading ${typename}`).toEqual(['FORBIDDEN']);
      }
    }
    // A program's charities are for its own members and staff.
    for (const viewer of [viewers[0]!, viewers[2]!]) expect(codes(await ask(viewer, 'Charity', refs.charity))).toEqual(['FORBIDDEN']);
  });
});
