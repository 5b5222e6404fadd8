import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '@loyalty-graph/shared';
import type { Caller } from '@loyalty-graph/testing';
import { createTestProgram, startSupergraph, type TestProgram, type TestSupergraph } from '@loyalty-graph/testing/supergraph';

/**
 * The property: whatever mix of purchases, returns, redemptions and late arrivals reaches the
 * ledger and the catalog, across partners and periods, every closed statement reconciles with the
 * ledger to the point, each opens with the previous one's closing balance, its lines are the exact
 * sums of its items at the prices in force (rounded once, half to even), its totals equal the
 * ledger's partner-funded entries and the redemptions made, late items land as adjustments, and no
 * closed statement ever changes. Real subgraphs and PostgreSQL throughout; the oracle here is the
 * ledger's own journal (read directly) and this test's record of what it did, never the code under
 * test. SETTLEMENT_SEED=<n> replays a run; the seed is in every failure message.
 */
const SEED = Number(process.env['SETTLEMENT_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const WEEKS = 5;
const BATCHES_PER_WEEK = 3;
const PURCHASES_PER_BATCH = 170;
const RETURNS_PER_BATCH = 8;
const ORDERS_PER_BATCH = 6;
const MEMBERS = 12;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = new Date('2026-06-01T00:30:00Z'); // a Monday
const weekStart = (w: number) => new Date(Date.UTC(2026, 5, 1) + w * 7 * DAY);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

interface Terms {
  version: number;
  effectiveFrom: Date;
  issuePrice: string;
  redemptionPrice: string;
  fixedFee: string;
  transactionFee: string;
}
interface PartnerModel {
  id: string;
  name: string;
  terms: Terms[];
  rewards: { id: string; points: number }[];
  redeemedPoints: number;
}
interface CsvItem {
  kind: string;
  adjustment: boolean;
  occurredAt: Date;
  points: number;
  amount: string;
  agreementVersion: number;
}
interface StatementView {
  id: string;
  status: string;
  periodStart: string;
  periodEnd: string;
  openingBalance: { amount: string };
  netAmount: { amount: string };
  payments: { amount: string };
  closingBalance: { amount: string };
  netIssuedPoints: number;
  lines: { kind: string; adjustedKind: string | null; points: number; transactions: number; amount: { amount: string } }[];
  csv: string;
}

const STATEMENT = `id status periodStart periodEnd openingBalance { amount } netAmount { amount } payments { amount } closingBalance { amount } netIssuedPoints
  lines { kind adjustedKind points transactions amount { amount } } csv`;

// Exact decimals for the oracle (10⁻⁸ units), written here again on purpose: the test must not
// borrow the arithmetic it checks.
const units = (text: string) => {
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const value = BigInt(whole!) * 10n ** 8n + BigInt(fraction.padEnd(8, '0').slice(0, 8) || '0');
  return text.startsWith('-') ? -value : value;
};
const roundCents = (value: bigint) => {
  const step = 10n ** 6n;
  const sign = value < 0n ? -1n : 1n;
  const magnitude = value * sign;
  let q = magnitude / step;
  const r = (magnitude % step) * 2n;
  if (r > step || (r === step && q % 2n === 1n)) q += 1n;
  return q * step * sign;
};

let graph: TestSupergraph;
let p: TestProgram;
let ledgerAdmin: Caller;
const members: string[] = [];
const memberCallers: Caller[] = [];
const partners: PartnerModel[] = [];
let experience: string;
let keyNo = 0;
const key = (label: string) => `prop-${label}-${SEED}-${++keyNo}`;

function parseCsv(csv: string): CsvItem[] {
  const [header, ...rows] = csv.trim().split('\r\n');
  const columns = header!.split(',');
  const at = (row: string[], name: string) => row[columns.indexOf(name)]!;
  return rows
    .map((r) => r.split(','))
    .filter((r) => r[0] === 'ITEM')
    .map((r) => ({
      kind: at(r, 'kind'),
      adjustment: at(r, 'adjustment') === 'true',
      occurredAt: new Date(at(r, 'occurred_at')),
      points: Number(at(r, 'points')),
      amount: at(r, 'amount'),
      agreementVersion: Number(at(r, 'agreement_version')),
    }));
}

async function createPartner(name: string, terms: Omit<Terms, 'version' | 'effectiveFrom'>): Promise<PartnerModel> {
  const { createPartner } = await p.admin.data<{ createPartner: { partner: { id: string } } }>(`mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } } }`, {
    input: { idempotencyKey: key('partner'), programId: p.programId, name, category: 'RETAIL' },
  });
  const partner: PartnerModel = { id: createPartner.partner.id, name, terms: [], rewards: [], redeemedPoints: 0 };
  await publish(partner, terms, 'WEEKLY', null);
  return partner;
}

async function publish(partner: PartnerModel, terms: Omit<Terms, 'version' | 'effectiveFrom'>, period: string, effectiveFrom: Date | null): Promise<void> {
  const eur = (amount: string) => ({ amount, currency: 'EUR' });
  const { publishPartnerAgreement } = await p.admin.data<{ publishPartnerAgreement: { agreement: { version: number; effectiveFrom: string } | null; userErrors: unknown[] } }>(
    `mutation($input: PublishPartnerAgreementInput!) { publishPartnerAgreement(input: $input) { agreement { version effectiveFrom } userErrors { code field message } } }`,
    {
      input: {
        idempotencyKey: key('agreement'),
        partnerId: partner.id,
        currency: 'EUR',
        issuePricePerPoint: eur(terms.issuePrice),
        redemptionPricePerPoint: eur(terms.redemptionPrice),
        fees: { fixedPerPeriod: eur(terms.fixedFee), perTransaction: eur(terms.transactionFee) },
        settlementPeriod: period,
        ...(effectiveFrom ? { effectiveFrom: effectiveFrom.toISOString() } : {}),
      },
    },
  );
  expect(publishPartnerAgreement.userErrors).toEqual([]);
  const { version, effectiveFrom: from } = publishPartnerAgreement.agreement!;
  partner.terms.push({ ...terms, version, effectiveFrom: new Date(from) });
}

async function createReward(type: string, points: number, partnerId: string | null): Promise<string> {
  const { createReward } = await p.admin.data<{ createReward: { reward: { id: string } | null; userErrors: unknown[] } }>(
    `mutation($input: CreateRewardInput!) { createReward(input: $input) { reward { id } userErrors { code field message } } }`,
    {
      input: {
        idempotencyKey: key('reward'),
        programId: p.programId,
        type,
        details: { defaultLocale: 'en', translations: [{ locale: 'en', name: `Reward ${keyNo}` }], points, ...(partnerId ? { partnerId } : { experience: { startsAt: '2027-01-01T18:00:00Z', place: 'Oslo', seats: 1000 } }) },
      },
    },
  );
  expect(createReward.userErrors).toEqual([]);
  return createReward.reward!.id;
}

/** The ledger's own journal, read directly: points on each partner's funding account. */
async function ledgerFunding(partnerId: string): Promise<number> {
  const [row] = (await graph.subgraphs['ledger']!.db.query(
    `SELECT coalesce(-sum(l.amount), 0)::int AS points FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON a.id = l.account_id
     WHERE a.kind = 'PARTNER_FUNDING' AND a.owner_id = $1 AND e.kind IN ('ACCRUAL', 'RETURN')`,
    [partnerId],
  )) as { points: number }[];
  return row!.points;
}

async function closedStatements(partnerId: string): Promise<StatementView[]> {
  const found: StatementView[] = [];
  let after: string | null = null;
  do {
    const { settlementStatements: page }: { settlementStatements: { nodes: StatementView[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await p.admin.data(
      `query($id: ID!, $after: String) { settlementStatements(partnerId: $id, first: 10, after: $after) { nodes { ${STATEMENT} } pageInfo { hasNextPage endCursor } } }`,
      { id: partnerId, after },
    );
    found.push(...page.nodes);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return found.reverse();
}

/** A statement's lines, recomputed from its items with this test's own price table and arithmetic. */
function expectLinesFromItems(partner: PartnerModel, statement: StatementView): void {
  const items = parseCsv(statement.csv);
  const inForce = (at: Date) => [...partner.terms].reverse().find((t) => t.effectiveFrom.getTime() <= at.getTime()) ?? partner.terms[0]!;
  const sums = new Map<string, { points: number; count: number; value: bigint }>();
  const add = (k: string, points: number, value: bigint) => {
    const s = sums.get(k) ?? { points: 0, count: 0, value: 0n };
    sums.set(k, { points: s.points + points, count: s.count + 1, value: s.value + value });
  };
  const start = new Date(statement.periodStart).getTime();
  for (const item of items) {
    const terms = inForce(item.occurredAt);
    const issueSide = item.kind === 'ISSUED' || item.kind === 'RETURNED';
    const value = BigInt(item.points) * units(issueSide ? terms.issuePrice : terms.redemptionPrice) * (issueSide ? 1n : -1n);
    expect(item.adjustment, `item at ${item.occurredAt.toISOString()} in ${statement.periodStart}`).toBe(item.occurredAt.getTime() < start);
    expect(item.agreementVersion).toBe(terms.version);
    expect(units(item.amount)).toBe(value);
    add(item.adjustment ? `ADJUSTMENT:${item.kind}` : item.kind, item.points, value);
    if (item.kind === 'ISSUED' || item.kind === 'REDEEMED') add('FEE_PER_TRANSACTION:', 0, units(terms.transactionFee));
  }
  for (const line of statement.lines) {
    const sum = sums.get(line.kind === 'ADJUSTMENT' ? `ADJUSTMENT:${line.adjustedKind}` : line.kind === 'FEE_PER_TRANSACTION' ? 'FEE_PER_TRANSACTION:' : line.kind);
    if (line.kind === 'FEE_FIXED') {
      expect(units(line.amount.amount)).toBe(units(inForce(new Date(statement.periodStart)).fixedFee));
      continue;
    }
    expect(units(line.amount.amount), `${line.kind} ${line.adjustedKind ?? ''}`).toBe(roundCents(sum?.value ?? 0n));
    expect(line.points).toBe(sum?.points ?? 0);
    expect(line.transactions).toBe(sum?.count ?? 0);
  }
  expect(units(statement.netAmount.amount)).toBe(statement.lines.reduce((t, l) => t + units(l.amount.amount), 0n));
  expect(units(statement.closingBalance.amount)).toBe(units(statement.openingBalance.amount) + units(statement.netAmount.amount) - units(statement.payments.amount));
}

beforeAll(async () => {
  graph = await startSupergraph({ gateway: { limits: { budgets: { staff: { capacity: 10_000_000, restoreRate: 1_000_000 }, member: { capacity: 1_000_000, restoreRate: 100_000 } } } } });
  graph.clock.set(T0);
  p = await createTestProgram(graph, { name: 'Settlement property' });
  ledgerAdmin = await graph.subgraphs['ledger']!.as({ ...ANONYMOUS, kind: 'STAFF', programId: p.programId, roles: ['ADMIN'], subject: 'property-admin' });
  for (let i = 0; i < MEMBERS; i++) {
    const { enrollMember } = await p.agent.data<{ enrollMember: { member: { id: string } } }>(
      `mutation($p: ID!, $email: String!) { enrollMember(input: { programId: $p, identifiers: [{ type: EMAIL, value: $email }] }) { member { id } } }`,
      { p: p.programId, email: `prop-${i}@example.com` },
    );
    members.push(enrollMember.member.id);
    memberCallers.push(await graph.asMember(p.programId, enrollMember.member.id));
  }
  partners.push(await createPartner('Alpha Fuel', { issuePrice: '0.01', redemptionPrice: '0.0075', fixedFee: '5', transactionFee: '0.01' }));
  partners.push(await createPartner('Beta Hotels', { issuePrice: '0.0125', redemptionPrice: '0.009', fixedFee: '12.50', transactionFee: '0.02' }));
  const gamma = await createPartner('Gamma Air', { issuePrice: '0.00333333', redemptionPrice: '0.0021', fixedFee: '0', transactionFee: '0.01' });
  partners.push(gamma);
  // Gamma's terms change in its second week (other prices, then monthly periods): a period prices
  // each item by its own time, and the period kind follows the version in force at each start.
  await publish(gamma, { issuePrice: '0.004', redemptionPrice: '0.0025', fixedFee: '20', transactionFee: '0.03' }, 'MONTHLY', new Date('2026-06-10T00:00:00Z'));
  for (const partner of partners) for (const points of [75, 150]) partner.rewards.push({ id: await createReward('PARTNER_SERVICE', points, partner.id), points });
  experience = await createReward('EXPERIENCE', 60, null);
  await graph.deliverEvents();
  for (const memberId of members) {
    const { adjustPoints } = await p.agent.data<{ adjustPoints: { userErrors: unknown[] } }>(`mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { userErrors { code } } }`, {
      i: { idempotencyKey: key('points'), memberId, points: 1_000_000, reasonCode: 'GOODWILL', comment: 'points to redeem' },
    });
    expect(adjustPoints.userErrors).toEqual([]);
  }
}, 120_000);
afterAll(() => graph?.stop());

describe(`settlement reconciles (seed ${SEED})`, () => {
  it('for thousands of random purchases, returns, redemptions and late arrivals across partners and periods', async () => {
    const rnd = random(SEED);
    const purchases: { id: string; partner: PartnerModel; left: number }[] = [];
    const snapshots = new Map<string, StatementView>();
    let late = 0;
    let purchaseCount = 0;
    let returnCount = 0;
    let orderCount = 0;
    try {
      for (let w = 0; w < WEEKS; w++) {
        let now = new Date(Math.max(weekStart(w).getTime() + HOUR, T0.getTime() + HOUR));
        for (let b = 0; b < BATCHES_PER_WEEK; b++) {
          // At most 3 × 50 h after the week's first hour: always inside the week.
          now = new Date(now.getTime() + rnd.int(1, 50) * HOUR);
          graph.clock.set(now);

          // Purchases, some dated in an earlier (closed) week: late arrivals.
          const lines = Array.from({ length: PURCHASES_PER_BATCH }, () => {
            const partner = rnd.pick(partners);
            const isLate = w > 0 && rnd.next() < 0.15;
            const occurredAt = isLate ? new Date(T0.getTime() + rnd.int(0, weekStart(w).getTime() - T0.getTime() - 60_000)) : new Date(now.getTime() - rnd.int(0, 3_600_000));
            if (isLate) late++;
            const quantity = rnd.int(1, 3);
            return { partner, quantity, line: { transactionId: randomUUID(), memberId: rnd.pick(members), occurredAt: occurredAt.toISOString(), basket: { currency: 'EUR', channel: 'PARTNER', partnerId: partner.id, lines: [{ lineId: 'L1', sku: 'SKU', category: 'general', quantity, amount: `${rnd.int(1, 400)}.00` }] } } };
          });
          const { recordPurchases } = await ledgerAdmin.data<{ recordPurchases: { lines: { status: string; purchase: { id: string } | null; error: unknown }[] } }>(
            `mutation($input: RecordPurchasesInput!) { recordPurchases(input: $input) { lines { status purchase { id } error { code field message } } } }`,
            { input: { source: 'property', lines: lines.map((l) => l.line) } },
          );
          recordPurchases.lines.forEach((report, i) => {
            expect(report.error).toBeNull();
            purchases.push({ id: report.purchase!.id, partner: lines[i]!.partner, left: lines[i]!.quantity });
          });
          purchaseCount += lines.length;

          // Returns of earlier purchases, partial or whole.
          for (let r = 0; r < RETURNS_PER_BATCH; r++) {
            const target = rnd.pick(purchases.filter((x) => x.left > 0));
            const quantity = rnd.int(1, target.left);
            target.left -= quantity;
            const { recordReturn } = await ledgerAdmin.data<{ recordReturn: { userErrors: unknown[] } }>(`mutation($input: RecordReturnInput!) { recordReturn(input: $input) { userErrors { code message } } }`, {
              input: { idempotencyKey: key('return'), purchaseId: target.id, lines: [{ lineId: 'L1', quantity }] },
            });
            expect(recordReturn.userErrors).toEqual([]);
            returnCount++;
          }

          // Redemptions of partners' rewards, some in one order with another partner's or a non-partner reward.
          for (let o = 0; o < ORDERS_PER_BATCH; o++) {
            const m = rnd.int(0, members.length - 1);
            const chosen = [rnd.pick(partners)];
            if (rnd.next() < 0.3) chosen.push(rnd.pick(partners));
            const orderLines = chosen.map((partner) => ({ partner, reward: rnd.pick(partner.rewards), quantity: rnd.int(1, 3) }));
            const byReward = new Map<string, number>();
            for (const l of orderLines) byReward.set(l.reward.id, (byReward.get(l.reward.id) ?? 0) + l.quantity);
            const input = [...byReward].map(([rewardId, quantity]) => ({ rewardId, quantity }));
            if (rnd.next() < 0.3) input.push({ rewardId: experience, quantity: 1 });
            const { placeRewardOrder } = await memberCallers[m]!.data<{ placeRewardOrder: { order: { status: string } | null; userErrors: unknown[] } }>(
              `mutation($input: PlaceRewardOrderInput!) { placeRewardOrder(input: $input) { order { status } userErrors { code field message } } }`,
              { input: { idempotencyKey: key('order'), memberId: members[m], lines: input } },
            );
            expect(placeRewardOrder.userErrors).toEqual([]);
            for (const l of orderLines) l.partner.redeemedPoints += l.reward.points * l.quantity;
            orderCount++;
          }
          await graph.deliverEvents();
        }

        // The week is over: past the grace, every partner's due period closes.
        graph.clock.set(new Date(weekStart(w + 1).getTime() + HOUR + 60_000));
        await graph.deliverEvents();
        await graph.subgraphs['partners']!.runJobs();
        for (const partner of partners) {
          const statements = await closedStatements(partner.id);
          expect(statements.length, `${partner.name} closed periods after week ${w}`).toBeGreaterThan(0);
          statements.forEach((statement, i) => {
            expect(statement.openingBalance.amount, `${partner.name} ${statement.periodStart} opens with the previous closing`).toBe(i === 0 ? '0.00' : statements[i - 1]!.closingBalance.amount);
            if (i > 0) expect(statement.periodStart).toBe(statements[i - 1]!.periodEnd);
            const before = snapshots.get(statement.id);
            if (before) {
              expect(statement, `closed statement ${statement.id} changed`).toEqual(before);
              return;
            }
            expectLinesFromItems(partner, statement);
            snapshots.set(statement.id, statement);
          });
          // Nothing waits: every period that is due has closed (no reconciliation failure).
          const { currentSettlementStatement: open } = await p.admin.data<{ currentSettlementStatement: { periodStart: string; periodEnd: string; reconciliationFailure: unknown } }>(
            `query($id: ID!) { currentSettlementStatement(partnerId: $id) { periodStart periodEnd reconciliationFailure { problems { code reference message } } } }`,
            { id: partner.id },
          );
          expect(open.reconciliationFailure).toBeNull();
          expect(new Date(open.periodEnd).getTime()).toBeGreaterThan(weekStart(w + 1).getTime());
        }
      }

      // Every closed statement still reconciles with the ledger, to the point.
      for (const id of snapshots.keys()) {
        const { settlementReconciliation } = await p.admin.data<{ settlementReconciliation: { reconciled: boolean; problems: unknown[] } }>(
          `query($id: ID!) { settlementReconciliation(statementId: $id) { reconciled problems { code reference message } } }`,
          { id },
        );
        expect(settlementReconciliation.problems, `statement ${id}`).toEqual([]);
      }
      // Totals: closed statements plus the open period settle exactly the ledger's partner-funded
      // points, and exactly the points redeemed on each partner's rewards.
      for (const partner of partners) {
        const statements = await closedStatements(partner.id);
        const { currentSettlementStatement: open } = await p.admin.data<{ currentSettlementStatement: StatementView }>(`query($id: ID!) { currentSettlementStatement(partnerId: $id) { ${STATEMENT} } }`, { id: partner.id });
        const all = [...statements, open];
        const issueSide = all.flatMap((s) => parseCsv(s.csv)).filter((i) => i.kind === 'ISSUED' || i.kind === 'RETURNED');
        const redeemed = all.flatMap((s) => parseCsv(s.csv)).filter((i) => i.kind === 'REDEEMED');
        expect(issueSide.reduce((t, i) => t + i.points, 0), `${partner.name} issued − returned`).toBe(await ledgerFunding(partner.id));
        expect(redeemed.reduce((t, i) => t + i.points, 0), `${partner.name} redeemed`).toBe(partner.redeemedPoints);
        expect(all.reduce((t, s) => t + s.netIssuedPoints, 0)).toBe(await ledgerFunding(partner.id));
        expect(statements.length, `${partner.name} periods`).toBeGreaterThanOrEqual(3);
      }
      // The generator did what the property is about.
      const adjustments = [...snapshots.values()].flatMap((s) => s.lines.filter((l) => l.kind === 'ADJUSTMENT'));
      expect(adjustments.length).toBeGreaterThan(0);
      expect(late).toBeGreaterThan(100);
      expect(purchaseCount + returnCount + orderCount).toBeGreaterThan(2_000);
    } catch (error) {
      if (error instanceof Error) error.message = `SETTLEMENT_SEED=${SEED}: ${error.message}`;
      throw error;
    }
  }, 240_000);
});
