import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { HoldFact, LedgerEntryFact } from '../domain/reconciliation';

/** What settlement asks the ledger to reconcile against (its SERVICE-only queries). */
export interface SettlementLedger {
  /** Every ACCRUAL/RETURN entry on the partner's funding account posted before `postedBefore`. */
  fundingEntries(programId: string, partnerId: string, postedBefore: Date): Promise<LedgerEntryFact[]>;
  /** The holds, in the order asked (null for unknown ones). */
  holds(ids: readonly string[]): Promise<(HoldFact | null)[]>;
}

const ENTRIES = `query($programId: ID!, $partnerId: ID!, $postedBefore: DateTime!, $after: String) {
  partnerFundingEntries(programId: $programId, partnerId: $partnerId, postedBefore: $postedBefore, first: 1000, after: $after) {
    nodes { entryId points postedAt }
    pageInfo { hasNextPage endCursor }
  }
}`;
const HOLDS = `query($ids: [ID!]!) { pointsHolds(ids: $ids) { id status points refundedPoints } }`;
const PAGE = 1_000;

export function settlementLedger(ledger: PeerClient): SettlementLedger {
  return {
    async fundingEntries(programId, partnerId, postedBefore) {
      const entries: LedgerEntryFact[] = [];
      let after: string | null = null;
      do {
        const { partnerFundingEntries: page }: { partnerFundingEntries: { nodes: { entryId: string; points: number; postedAt: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
          await ledger.request(ENTRIES, { programId, partnerId, postedBefore: postedBefore.toISOString(), after });
        for (const node of page.nodes) entries.push({ entryId: node.entryId, points: node.points, postedAt: new Date(node.postedAt) });
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      return entries;
    },
    async holds(ids) {
      const found: (HoldFact | null)[] = [];
      for (let i = 0; i < ids.length; i += PAGE) {
        const { pointsHolds } = await ledger.request<{ pointsHolds: ({ id: string; status: string; points: number; refundedPoints: number } | null)[] }>(HOLDS, { ids: ids.slice(i, i + PAGE) });
        for (const hold of pointsHolds) found.push(hold && { holdId: hold.id, status: hold.status, points: hold.points, refundedPoints: hold.refundedPoints });
      }
      return found;
    },
  };
}
