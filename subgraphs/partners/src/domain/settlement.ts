import { currencyDigits, DomainError } from '@loyalty-graph/shared';
import { agreementInForce, type AgreementTerms } from './agreements';
import { formatExact, formatUnits, roundHalfEven, toUnits } from './decimal';
import { termsAt, type Period } from './periods';

/**
 * The statement builder: pure, no I/O. Given a period, the partner's agreement versions, the items
 * filed into it and the payments it counts, it prices every item with the version in force at the
 * item's business time and sums them into lines.
 *
 * Signs: an amount is what the partner owes the operator (negative: the operator owes the
 * partner). Points are signed as the items are: ISSUED and REDEEMED positive, RETURNED and
 * REDEMPTION_REVERSED negative.
 * - ISSUED: points × issue price (the partner pays for points issued at it).
 * - RETURNED: the same for clawed-back points, so negative.
 * - REDEEMED: −points × redemption price (the operator pays for points spent on the partner's rewards).
 * - REDEMPTION_REVERSED: the same for cancelled units, so positive.
 * - ADJUSTMENT: a late item (its business time in an earlier, closed period), priced like its kind;
 *   one line per kind of late item.
 * - FEE_FIXED: the fixed fee of the version in force at the period's start (or the first version).
 * - FEE_PER_TRANSACTION: one fee per purchase (ISSUED) and redemption (REDEEMED) item, late ones
 *   included, each at the version in force at its business time.
 * Each item's amount is exact (up to 8 decimals); each line's amount is the exact sum of its
 * items rounded once, half to even, to the currency's minor units. netAmount is the sum of the
 * lines; closingBalance = openingBalance + netAmount − payments, where payments are the net amounts
 * of earlier statements marked paid (and not counted before) by the time this one closes.
 */

export const ITEM_KINDS = ['ISSUED', 'RETURNED', 'REDEEMED', 'REDEMPTION_REVERSED'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];
export type LineKind = ItemKind | 'ADJUSTMENT' | 'FEE_FIXED' | 'FEE_PER_TRANSACTION';

/** Agreement terms as settlement prices them (a version of `partner_agreements`). */
export interface PriceTerms extends Omit<AgreementTerms, 'prepaidPoints' | 'creditLimitPoints'> {
  version: number;
}

export interface SettlementFact {
  id: string;
  kind: ItemKind;
  points: number;
  /** Business time: the purchase's time for accruals, the event's for the rest. */
  occurredAt: Date;
}

export interface PricedItem {
  adjustment: boolean;
  agreementVersion: number;
  pricePerPoint: string;
  /** Exact, in the currency (up to 8 decimals). */
  amount: string;
}

export interface StatementLine {
  kind: LineKind;
  /** For ADJUSTMENT lines: the kind of the late items. */
  adjustedKind: ItemKind | null;
  points: number;
  /** Items in the line (for fees: the transactions charged; FEE_FIXED: 1). */
  transactions: number;
  amount: string;
}

export interface BuiltStatement {
  currency: string;
  lines: StatementLine[];
  netAmount: string;
  payments: string;
  openingBalance: string;
  closingBalance: string;
  /** ISSUED + RETURNED points, late ones included: what a payment settles against the credit limit. */
  netIssuedPoints: number;
  items: Map<string, PricedItem>;
}

export interface StatementInput {
  period: Period;
  agreements: readonly PriceTerms[];
  /** Items filed into the statement; those before the period's start are adjustments. */
  items: readonly SettlementFact[];
  openingBalance: string;
  /** Net amounts of earlier statements paid and counted in this one. */
  payments: readonly string[];
}

/** Items priced at the issue price; the others at the redemption price. */
const ISSUE_SIDE = new Set<ItemKind>(['ISSUED', 'RETURNED']);
/** Items that are a transaction the per-transaction fee is charged on. */
const TRANSACTIONS = new Set<ItemKind>(['ISSUED', 'REDEEMED']);

/** The signed exact amount of one item and the terms used. */
export function priceItem(fact: SettlementFact, agreements: readonly PriceTerms[]): { terms: PriceTerms; price: string; units: bigint } {
  const terms = agreementInForce(agreements, fact.occurredAt) ?? termsAt(agreements, fact.occurredAt);
  const price = ISSUE_SIDE.has(fact.kind) ? terms.issuePrice : terms.redemptionPrice;
  const units = BigInt(fact.points) * toUnits(price);
  return { terms, price, units: ISSUE_SIDE.has(fact.kind) ? units : -units };
}

export function buildStatement(input: StatementInput): BuiltStatement {
  const { period, agreements } = input;
  const periodTerms = termsAt(agreements, period.start);
  const currency = periodTerms.currency;
  const digits = currencyDigits(currency);
  const sums = new Map<string, { points: number; count: number; units: bigint }>();
  const add = (key: string, points: number, units: bigint) => {
    const sum = sums.get(key) ?? { points: 0, count: 0, units: 0n };
    sums.set(key, { points: sum.points + points, count: sum.count + 1, units: sum.units + units });
  };
  const items = new Map<string, PricedItem>();
  let netIssuedPoints = 0;
  for (const fact of input.items) {
    if (fact.occurredAt.getTime() >= period.end.getTime()) throw new Error(`item ${fact.id} belongs to a later period`);
    const { terms, price, units } = priceItem(fact, agreements);
    // A statement sums one currency: a version in another would make its total meaningless.
    if (terms.currency !== currency) throw new DomainError('CURRENCY_CHANGED', `item ${fact.id} is priced in ${terms.currency}, the statement in ${currency}`);
    const adjustment = fact.occurredAt.getTime() < period.start.getTime();
    add(adjustment ? `ADJUSTMENT:${fact.kind}` : fact.kind, fact.points, units);
    if (TRANSACTIONS.has(fact.kind)) add('FEE_PER_TRANSACTION', 0, toUnits(terms.transactionFee));
    if (ISSUE_SIDE.has(fact.kind)) netIssuedPoints += fact.points;
    items.set(fact.id, { adjustment, agreementVersion: terms.version, pricePerPoint: formatExact(toUnits(price), digits), amount: formatExact(units, digits) });
  }
  add('FEE_FIXED', 0, toUnits(periodTerms.fixedFee));

  const lines: StatementLine[] = [];
  const line = (kind: LineKind, adjustedKind: ItemKind | null, key: string, always: boolean) => {
    const sum = sums.get(key);
    if (!sum && !always) return;
    lines.push({ kind, adjustedKind, points: sum?.points ?? 0, transactions: sum?.count ?? 0, amount: formatUnits(roundHalfEven(sum?.units ?? 0n, digits), digits) });
  };
  for (const kind of ITEM_KINDS) line(kind, null, kind, true);
  for (const kind of ITEM_KINDS) line('ADJUSTMENT', kind, `ADJUSTMENT:${kind}`, false);
  line('FEE_FIXED', null, 'FEE_FIXED', true);
  line('FEE_PER_TRANSACTION', null, 'FEE_PER_TRANSACTION', true);

  const net = lines.reduce((total, l) => total + toUnits(l.amount), 0n);
  const payments = input.payments.reduce((total, p) => total + toUnits(p), 0n);
  const opening = toUnits(input.openingBalance);
  return {
    currency,
    lines,
    netAmount: formatUnits(net, digits),
    payments: formatUnits(payments, digits),
    openingBalance: formatUnits(opening, digits),
    closingBalance: formatUnits(opening + net - payments, digits),
    netIssuedPoints,
    items,
  };
}
