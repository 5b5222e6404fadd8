import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';
import { formatExact, roundHalfEven, toUnits } from './decimal';
import { firstPeriod, nextBoundary, periodFloor, periodStartingAt, statementId } from './periods';
import { reconcile } from './reconciliation';
import { buildStatement, type PriceTerms, type SettlementFact } from './settlement';

const d = (iso: string) => new Date(iso);
const v1: PriceTerms = { version: 1, effectiveFrom: d('2026-03-10T12:00:00Z'), currency: 'EUR', issuePrice: '0.01', redemptionPrice: '0.0075', fixedFee: '100', transactionFee: '0.05', settlementPeriod: 'MONTHLY' };
const v2: PriceTerms = { ...v1, version: 2, effectiveFrom: d('2026-04-15T00:00:00Z'), issuePrice: '0.02', transactionFee: '0.10', settlementPeriod: 'WEEKLY' };
const april = { start: d('2026-04-01T00:00:00Z'), end: d('2026-05-01T00:00:00Z') };
let n = 0;
const fact = (kind: SettlementFact['kind'], points: number, at: string): SettlementFact => ({ id: `i${++n}`, kind, points, occurredAt: d(at) });

describe('periods', () => {
  it('start on UTC boundaries: Monday, the 1st, the quarter', () => {
    const at = d('2026-05-14T23:30:00Z'); // a Thursday
    expect(periodFloor('WEEKLY', at).toISOString()).toBe('2026-05-11T00:00:00.000Z');
    expect(periodFloor('MONTHLY', at).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(periodFloor('QUARTERLY', at).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(nextBoundary('QUARTERLY', d('2026-12-31T23:59:59Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(nextBoundary('WEEKLY', d('2026-05-11T00:00:00Z')).toISOString()).toBe('2026-05-18T00:00:00.000Z');
  });

  it('follow each other without gaps, each with the kind in force at its start', () => {
    const first = firstPeriod([v1, v2]);
    expect(first).toEqual({ start: d('2026-03-01T00:00:00Z'), end: d('2026-04-01T00:00:00Z') });
    // v2 (weekly) starts mid-April: April is still monthly, May's first period is weekly and ends on Monday 4 May.
    const second = periodStartingAt([v1, v2], first.end);
    expect(second).toEqual(april);
    expect(periodStartingAt([v1, v2], second.end)).toEqual({ start: d('2026-05-01T00:00:00Z'), end: d('2026-05-04T00:00:00Z') });
  });

  it('give each period one stable statement id', () => {
    const id = statementId('00000000-0000-4000-8000-000000000001', april.start);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(statementId('00000000-0000-4000-8000-000000000001', new Date(april.start))).toBe(id);
    expect(statementId('00000000-0000-4000-8000-000000000002', april.start)).not.toBe(id);
  });
});

describe('decimal', () => {
  it('rounds half to even and keeps exact amounts exact', () => {
    expect(roundHalfEven(toUnits('0.125'), 2)).toBe(toUnits('0.12'));
    expect(roundHalfEven(toUnits('0.135'), 2)).toBe(toUnits('0.14'));
    expect(roundHalfEven(toUnits('-0.125'), 2)).toBe(toUnits('-0.12'));
    expect(roundHalfEven(toUnits('0.12500001'), 2)).toBe(toUnits('0.13'));
    expect(formatExact(toUnits('3') * 3n, 2)).toBe('9.00');
    expect(formatExact(BigInt(7) * toUnits('0.0075'), 2)).toBe('0.0525');
  });
});

describe('buildStatement', () => {
  it('prices each item with the version in force at its business time and sums lines per kind', () => {
    const items = [
      fact('ISSUED', 1000, '2026-04-02T10:00:00Z'), // v1: 10.00
      fact('ISSUED', 500, '2026-04-20T10:00:00Z'), // v2: 10.00
      fact('RETURNED', -100, '2026-04-21T10:00:00Z'), // v2: -2.00
      fact('REDEEMED', 2000, '2026-04-03T10:00:00Z'), // -15.00
      fact('REDEMPTION_REVERSED', -1000, '2026-04-25T10:00:00Z'), // +7.50
    ];
    const built = buildStatement({ period: april, agreements: [v1, v2], items, openingBalance: '40.00', payments: ['40.00'] });
    const amounts = Object.fromEntries(built.lines.map((l) => [l.kind, [l.points, l.transactions, l.amount]]));
    expect(amounts).toEqual({
      ISSUED: [1500, 2, '20.00'],
      RETURNED: [-100, 1, '-2.00'],
      REDEEMED: [2000, 1, '-15.00'],
      REDEMPTION_REVERSED: [-1000, 1, '7.50'],
      FEE_FIXED: [0, 1, '100.00'],
      // two purchases and one redemption: 0.05 (v1) + 0.10 (v2) + 0.05 (v1)
      FEE_PER_TRANSACTION: [0, 3, '0.20'],
    });
    expect(built).toMatchObject({ currency: 'EUR', netAmount: '110.70', openingBalance: '40.00', payments: '40.00', closingBalance: '110.70', netIssuedPoints: 1400 });
    expect(built.items.get(items[1]!.id)).toEqual({ adjustment: false, agreementVersion: 2, pricePerPoint: '0.02', amount: '10.00' });
  });

  it('files items from before the period as adjustment lines by kind', () => {
    const late = fact('ISSUED', 300, '2026-03-20T10:00:00Z');
    const built = buildStatement({ period: april, agreements: [v1, v2], items: [late, fact('ISSUED', 1, '2026-04-02T00:00:00Z')], openingBalance: '0', payments: [] });
    expect(built.lines.filter((l) => l.kind === 'ADJUSTMENT')).toEqual([{ kind: 'ADJUSTMENT', adjustedKind: 'ISSUED', points: 300, transactions: 1, amount: '3.00' }]);
    expect(built.items.get(late.id)).toMatchObject({ adjustment: true, agreementVersion: 1 });
    expect(built.netIssuedPoints).toBe(301);
  });

  it('rounds each line once, half to even, from exact item amounts', () => {
    // 7 × 0.0075 = 0.0525 per redemption; three of them: 0.1575 → 0.16; one alone 0.0525 → 0.05
    const three = buildStatement({ period: april, agreements: [v1], items: [1, 2, 3].map(() => fact('REDEEMED', 7, '2026-04-05T00:00:00Z')), openingBalance: '0', payments: [] });
    expect(three.lines.find((l) => l.kind === 'REDEEMED')!.amount).toBe('-0.16');
    const half = buildStatement({ period: april, agreements: [{ ...v1, redemptionPrice: '0.005' }], items: [fact('REDEEMED', 1, '2026-04-05T00:00:00Z')], openingBalance: '0', payments: [] });
    expect(half.lines.find((l) => l.kind === 'REDEEMED')!.amount).toBe('0.00');
  });

  it('charges the fixed fee of an empty period and refuses a currency change inside a statement', () => {
    const empty = buildStatement({ period: april, agreements: [v1], items: [], openingBalance: '-5.00', payments: [] });
    expect(empty).toMatchObject({ netAmount: '100.00', closingBalance: '95.00' });
    const usd = { ...v2, currency: 'USD' };
    expect(() => buildStatement({ period: april, agreements: [v1, usd], items: [fact('ISSUED', 1, '2026-04-20T00:00:00Z')], openingBalance: '0', payments: [] })).toThrow(/USD/);
  });
});

describe('reconcile', () => {
  const end = d('2026-05-01T00:00:00Z');
  const entry = (entryId: string, points: number, at: string) => ({ entryId, points, postedAt: d(at) });
  const item = (ledgerEntryId: string, points: number, filing: 'EARLIER' | 'THIS' | 'OPEN', at = '2026-04-10T00:00:00Z') => ({ id: `item-${ledgerEntryId}`, ledgerEntryId, points, occurredAt: d(at), filing });
  const none = { holds: [], holdUses: [] };

  it('passes when every entry before the end has its item with its points', () => {
    const entries = [entry('e1', 10, '2026-04-10T00:00:00Z'), entry('e2', -4, '2026-03-01T00:00:00Z'), entry('e3', 7, '2026-05-01T00:10:00Z')];
    expect(reconcile({ periodEnd: end, entries, items: [item('e1', 10, 'THIS'), item('e2', -4, 'EARLIER')], ...none })).toEqual([]);
  });

  it('names every entry missing, every point difference and every item without its entry', () => {
    const problems = reconcile({
      periodEnd: end,
      entries: [entry('e1', 10, '2026-04-10T00:00:00Z'), entry('e2', 5, '2026-04-11T00:00:00Z'), entry('e4', 3, '2026-04-12T00:00:00Z')],
      items: [item('e2', 6, 'THIS'), item('e3', 1, 'THIS'), item('e4', 3, 'OPEN')],
      ...none,
    });
    expect(problems.map((p) => [p.code, p.reference])).toEqual([
      ['MISSING_ITEM', 'e1'],
      ['POINTS_MISMATCH', 'e2'],
      ['NOT_FILED', 'e4'],
      ['UNKNOWN_ENTRY', 'e3'],
    ]);
  });

  it('checks that each redemption hold captured exactly its lines and refunded at least the reversals', () => {
    const holds = [
      { holdId: 'h1', status: 'CAPTURED', points: 50, refundedPoints: 0 },
      { holdId: 'h2', status: 'CAPTURED', points: 50, refundedPoints: 10 },
      { holdId: 'h3', status: 'RELEASED', points: 50, refundedPoints: 0 },
      null,
    ];
    const holdUses = [
      { holdId: 'h1', redeemedPoints: 50, reversedPoints: 0 },
      { holdId: 'h2', redeemedPoints: 50, reversedPoints: 20 },
      { holdId: 'h3', redeemedPoints: 50, reversedPoints: 0 },
      { holdId: 'h4', redeemedPoints: 50, reversedPoints: 0 },
    ];
    expect(reconcile({ periodEnd: end, entries: [], items: [], holds, holdUses }).map((p) => p.code)).toEqual(['REVERSAL_EXCEEDS_REFUND', 'HOLD_NOT_CAPTURED', 'HOLD_NOT_FOUND']);
    expect(reconcile({ periodEnd: end, entries: [], items: [], holds, holdUses: [{ holdId: 'h1', redeemedPoints: 40, reversedPoints: 0 }] }).map((p) => p.code)).toEqual(['HOLD_POINTS_MISMATCH']);
  });
});

describe('csv', () => {
  it('quotes as RFC 4180 and defuses formulas but not numbers', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-12.50')).toBe('-12.50');
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'], [[1, 'x\ny']])).toBe('a,b\r\n1,"x\ny"\r\n');
  });
});
