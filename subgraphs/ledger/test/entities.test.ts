import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller, type RunningSubgraph } from '@loyalty-graph/testing';

/**
 * The ledger on its own, called the way the gateway calls it: `_entities` for the types other
 * subgraphs reference, resolved at the injected clock's time.
 */
let sub: RunningSubgraph & Awaited<ReturnType<typeof startTestSubgraph>>;
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
