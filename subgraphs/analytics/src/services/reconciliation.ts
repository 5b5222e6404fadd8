import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { Kpis, PointTotals } from './kpis';
import type { Finance } from './money';

/** Both sides of one figure and what analytics lacks (+) or has too much (−) against the ledger. */
export interface ReconciledFigureRow {
  analytics: bigint;
  ledger: bigint;
  difference: bigint;
}

export interface Reconciliation {
  programId: string;
  issued: ReconciledFigureRow;
  redeemed: ReconciledFigureRow;
  expired: ReconciledFigureRow;
  outstanding: ReconciledFigureRow;
  balanced: boolean;
  checkedAt: Date;
}

const COUNTS = `query($programId: ID!) { programPointCounts(programId: $programId) { issued redeemed expired outstanding } }`;

/**
 * Compares analytics' totals with the ledger's own (its SERVICE-only `programPointCounts`, the sums
 * behind Program.pointsTotals). Events still on their way show as a difference until delivered:
 * the consumer lag in analyticsOperations says whether that is the reason.
 */
export class Reconciler {
  constructor(
    private readonly kpis: Kpis,
    private readonly ledger: PeerClient,
    private readonly finance: Finance,
  ) {}

  async reconcile(programId: string, now: Date): Promise<Reconciliation> {
    type Totals = PointTotals & { outstanding: bigint };
    const [ours, theirs] = await Promise.all([
      Promise.all([this.kpis.totals(programId), this.finance.outstanding(programId, null)]).then(([totals, { outstanding }]): Totals => ({ ...totals, outstanding })),
      this.ledger.request<{ programPointCounts: { issued: string; redeemed: string; expired: string; outstanding: string } }>(COUNTS, { programId }).then(
        ({ programPointCounts: c }): Totals => ({ issued: BigInt(c.issued), redeemed: BigInt(c.redeemed), expired: BigInt(c.expired), outstanding: BigInt(c.outstanding) }),
      ),
    ]);
    const figure = (key: keyof Totals): ReconciledFigureRow => ({ analytics: ours[key], ledger: theirs[key], difference: theirs[key] - ours[key] });
    const issued = figure('issued');
    const redeemed = figure('redeemed');
    const expired = figure('expired');
    const outstanding = figure('outstanding');
    return { programId, issued, redeemed, expired, outstanding, balanced: [issued, redeemed, expired, outstanding].every((f) => f.difference === 0n), checkedAt: now };
  }
}
