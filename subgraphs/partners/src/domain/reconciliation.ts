/**
 * Reconciliation of a partner's settlement to the ledger, to the point: pure, given what the
 * ledger says (its partner-funded entries, the holds) and what settlement holds (items).
 *
 * A period may close only when:
 * 1. every partner-funded ledger entry posted before the period's end has exactly one item, in
 *    this statement or an earlier one (or, for a purchase dated after the period, still open);
 *    an entry posted later without an item yet is in flight and fine;
 * 2. every item of an entry has the entry's points, and every filed item's entry exists;
 * 3. every hold a redemption of this statement names was CAPTURED for exactly the points of the
 *    order lines it paid for (all of them, the partner's and others'), and reversals of it never
 *    exceed what refunds gave back.
 */

export interface LedgerEntryFact {
  entryId: string;
  points: number;
  postedAt: Date;
}

export type Filing = 'EARLIER' | 'THIS' | 'OPEN';

export interface EntryItem {
  id: string;
  ledgerEntryId: string;
  points: number;
  occurredAt: Date;
  filing: Filing;
}

export interface HoldFact {
  holdId: string;
  status: string;
  points: number;
  refundedPoints: number;
}

export interface HoldUse {
  holdId: string;
  /** Points of every redeemed order line the hold paid for. */
  redeemedPoints: number;
  /** Points reversed by cancelled partner lines of it (positive). */
  reversedPoints: number;
}

export interface ReconciliationProblem {
  code: 'CURRENCY_CHANGED' | 'MISSING_ITEM' | 'POINTS_MISMATCH' | 'UNKNOWN_ENTRY' | 'NOT_FILED' | 'HOLD_NOT_FOUND' | 'HOLD_NOT_CAPTURED' | 'HOLD_POINTS_MISMATCH' | 'REVERSAL_EXCEEDS_REFUND';
  /** The ledger entry or hold concerned. */
  reference: string;
  message: string;
}

export function reconcile(input: {
  periodEnd: Date;
  entries: readonly LedgerEntryFact[];
  items: readonly EntryItem[];
  holds: readonly (HoldFact | null)[];
  holdUses: readonly HoldUse[];
}): ReconciliationProblem[] {
  const problems: ReconciliationProblem[] = [];
  const end = input.periodEnd.getTime();
  const itemsByEntry = new Map(input.items.map((item) => [item.ledgerEntryId, item]));
  const entryIds = new Set<string>();
  for (const entry of input.entries) {
    entryIds.add(entry.entryId);
    const item = itemsByEntry.get(entry.entryId);
    const postedBeforeEnd = entry.postedAt.getTime() < end;
    if (!item) {
      if (postedBeforeEnd) problems.push({ code: 'MISSING_ITEM', reference: entry.entryId, message: `ledger entry ${entry.entryId} (${entry.points} points, posted ${entry.postedAt.toISOString()}) is in no statement item` });
      continue;
    }
    if (item.points !== entry.points) problems.push({ code: 'POINTS_MISMATCH', reference: entry.entryId, message: `ledger entry ${entry.entryId} has ${entry.points} points, its item ${item.id} ${item.points}` });
    if (postedBeforeEnd && item.filing === 'OPEN' && item.occurredAt.getTime() < end) {
      problems.push({ code: 'NOT_FILED', reference: entry.entryId, message: `item ${item.id} of ledger entry ${entry.entryId} belongs to this period but was not filed into it` });
    }
  }
  for (const item of input.items) {
    if (item.filing !== 'OPEN' && !entryIds.has(item.ledgerEntryId)) {
      problems.push({ code: 'UNKNOWN_ENTRY', reference: item.ledgerEntryId, message: `item ${item.id} names ledger entry ${item.ledgerEntryId}, which is no partner-funded entry of the partner` });
    }
  }
  const holds = new Map(input.holds.filter((h): h is HoldFact => h !== null).map((h) => [h.holdId, h]));
  for (const use of input.holdUses) {
    const hold = holds.get(use.holdId);
    if (!hold) {
      problems.push({ code: 'HOLD_NOT_FOUND', reference: use.holdId, message: `hold ${use.holdId} is unknown to the ledger` });
    } else if (hold.status !== 'CAPTURED') {
      problems.push({ code: 'HOLD_NOT_CAPTURED', reference: use.holdId, message: `hold ${use.holdId} is ${hold.status}, not CAPTURED` });
    } else if (hold.points !== use.redeemedPoints) {
      problems.push({ code: 'HOLD_POINTS_MISMATCH', reference: use.holdId, message: `hold ${use.holdId} captured ${hold.points} points, its redeemed lines ${use.redeemedPoints}` });
    } else if (use.reversedPoints > hold.refundedPoints) {
      problems.push({ code: 'REVERSAL_EXCEEDS_REFUND', reference: use.holdId, message: `hold ${use.holdId} refunded ${hold.refundedPoints} points, reversals of it ${use.reversedPoints}` });
    }
  }
  return problems;
}
