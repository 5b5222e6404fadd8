import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { ANONYMOUS, type Viewer, type ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { startTestSubgraph, type Caller } from '@loyalty-graph/testing';

/**
 * A backtest of a realistic range: 20,000 purchases of 400 members over 90 days (1 to 3 lines,
 * a quarter of the members gold), recorded through recordPurchases as an import would, replayed
 * through a draft with a multiplier, a campaign and a monthly cap. The replay streams them in
 * keyset batches; the test prints how many purchases a second it replays (ledger README,
 * ### Backtests) and holds the actual side to the journal.
 */
const PURCHASES = 20_000;
const MEMBERS = 400;
let sub: Awaited<ReturnType<typeof startTestSubgraph>>;
let admin: Caller;
const programId = randomUUID();
const gold = randomUUID();
const FROM = new Date('2026-03-01T00:00:00Z');
const TO = new Date('2026-05-30T00:00:00Z');
const ADMIN: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId, roles: ['ADMIN'], subject: 'admin-1' };

beforeAll(async () => {
  sub = await startTestSubgraph(ledgerSubgraph as unknown as SubgraphModule<ViewerContext>);
  sub.clock.set(new Date('2026-02-01T00:00:00Z'));
  admin = await sub.as(ADMIN);
  await admin.data(`mutation($p: ID!) { configureLedger(input: { programId: $p, returnWindowDays: 0 }) { userErrors { code } } }`, { p: programId });
  const { publishEarningRules } = await admin.data<{ publishEarningRules: { userErrors: unknown[] } }>(
    `mutation($input: PublishEarningRulesInput!) { publishEarningRules(input: $input) { userErrors { code } } }`,
    { input: { programId, currency: 'EUR', basePoints: 1, perAmount: '1.00', rounding: 'FLOOR', multipliers: [{ dimension: 'TIER', value: gold, factor: '2' }] } },
  );
  expect(publishEarningRules.userErrors).toEqual([]);
  const members = Array.from({ length: MEMBERS }, () => randomUUID());
  await sub.db.query(
    `INSERT INTO member_snapshots (member_id, program_id, status, tier_id, version, updated_at)
     SELECT m, $2, 'ACTIVE', CASE WHEN n % 4 = 0 THEN $3::uuid END, 1, now() FROM unnest($1::uuid[]) WITH ORDINALITY AS t(m, n)`,
    [members, programId, gold],
  );
  sub.clock.set(new Date('2026-06-01T00:00:00Z'));
  const span = TO.getTime() - FROM.getTime();
  const categories = ['food', 'wine', 'home', 'toys'];
  for (let start = 0; start < PURCHASES; start += 1000) {
    const lines = Array.from({ length: 1000 }, (_, k) => {
      const i = start + k;
      return {
        transactionId: `T-${i}`,
        memberId: members[i % MEMBERS],
        occurredAt: new Date(FROM.getTime() + Math.floor((span * i) / PURCHASES)).toISOString(),
        basket: {
          currency: 'EUR',
          channel: i % 3 === 0 ? 'ONLINE' : 'STORE',
          lines: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ lineId: String(j + 1), sku: `SKU-${(i + j) % 50}`, category: categories[(i + j) % 4], quantity: 1 + (j % 2), amount: `${5 + ((i * 7 + j * 13) % 120)}.${String((i + j) % 100).padStart(2, '0')}` })),
        },
      };
    });
    // Signed afresh: viewer tokens live 60 s, and recording 20,000 purchases may take longer.
    admin = await sub.as(ADMIN);
    const { recordPurchases } = await admin.data<{ recordPurchases: { recorded: number; rejected: number } }>(
      `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { recorded rejected } }`,
      { input: { source: 'history', lines } },
    );
    expect(recordPurchases).toEqual({ recorded: 1000, rejected: 0 });
  }
  // Timestamps at the database's precision (microseconds) and ties, as other writers may leave
  // them: the keyset cursor must neither skip nor repeat a purchase across batch boundaries.
  await sub.db.query(
    `UPDATE purchases SET occurred_at = date_trunc('hour', occurred_at) + CASE WHEN random() < 0.3 THEN interval '0' ELSE random() * interval '1 second' END WHERE program_id = $1`,
    [programId],
  );
  // As autovacuum would after a bulk load: the measurement is of the replay, not of dead rows.
  await sub.db.query(`VACUUM ANALYZE purchases`);
}, 600_000);

afterAll(async () => {
  await sub?.stop();
});

describe('a backtest of 20,000 purchases', () => {
  it('replays them all in batches, its actual side equal to the journal', async () => {
    admin = await sub.as(ADMIN);
    const started = performance.now();
    const { _entities } = await admin.data<{ _entities: { backtestEarningRules: { purchases: number; members: number; actualPoints: string; draftPoints: string } }[] }>(
      `query($reps: [_Any!]!, $input: BacktestEarningRulesInput!) { _entities(representations: $reps) { ... on Program {
        backtestEarningRules(input: $input) { purchases members actualPoints draftPoints } } } }`,
      {
        reps: [{ __typename: 'Program', id: programId, pointValue: { amount: '0.01', currency: 'EUR' }, tiers: [{ id: gold, name: 'Gold', rank: 1, qualifyingThreshold: 1000 }] }],
        input: {
          from: FROM.toISOString(),
          to: TO.toISOString(),
          rules: {
            currency: 'EUR',
            basePoints: 2,
            perAmount: '1.00',
            rounding: 'NEAREST',
            multipliers: [{ dimension: 'TIER', value: gold, factor: '1.5' }, { dimension: 'CATEGORY', value: 'wine', factor: '2' }],
            campaigns: [{ name: 'Spring', startsAt: '2026-04-01T00:00:00Z', endsAt: '2026-04-15T00:00:00Z', factor: '3', categories: [], channels: ['ONLINE'] }],
            caps: [{ period: 'MONTH', maxPoints: 2500 }],
          },
        },
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const result = _entities[0]!.backtestEarningRules;
    const [journal] = (await sub.db.query(
      `SELECT coalesce(sum(e.member_amount), 0)::text AS points FROM journal_entries e JOIN purchases p ON p.id = e.purchase_id WHERE p.program_id = $1 AND e.kind IN ('ACCRUAL', 'RETURN')`,
      [programId],
    )) as { points: string }[];
    expect(result).toMatchObject({ purchases: PURCHASES, members: MEMBERS, actualPoints: journal!.points });
    expect(Number(result.draftPoints)).toBeGreaterThan(0);
    process.stdout.write(`backtest: ${PURCHASES} purchases in ${seconds.toFixed(2)} s = ${Math.round(PURCHASES / seconds)} purchases/s\n`);
  }, 120_000);
});
