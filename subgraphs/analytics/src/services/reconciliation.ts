import type { PeerClient } from '@loyalty-graph/shared/subgraph';
import type { Kpis, PointTotals } from './kpis';

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
  balanced: boolean;
  checkedAt: Date;
}

const COUNTS = `query($programId: ID!) { programPointCounts(programId: $programId) { issued redeemed expired } }`;

/**
 * Compares analytics' totals with the ledger's own (its SERVICE-only `programPointCounts`, the sums
 * behind Program.pointsTotals). Events still on their way show as a difference until delivered:
 * the consumer lag in analyticsOperations says whether that is the reason.
 */
export class Reconciler {
  constructor(
    private readonly kpis: Kpis,
    private readonly ledger: PeerClient,
  ) {}

  async reconcile(programId: string, now: Date): Promise<Reconciliation> {
    const [ours, theirs] = await Promise.all([
      this.kpis.totals(programId),
      this.ledger.request<{ programPointCounts: { issued: string; redeemed: string; expired: string } }>(COUNTS, { programId }).then(
        ({ programPointCounts: c }): PointTotals => ({ issued: BigInt(c.issued), redeemed: BigInt(c.redeemed), expired: BigInt(c.expired) }),
      ),
    ]);
    const figure = (key: keyof PointTotals): ReconciledFigureRow => ({ analytics: ours[key], ledger: theirs[key], difference: theirs[key] - ours[key] });
    const issued = figure('issued');
    const redeemed = figure('redeemed');
    const expired = figure('expired');
    return { programId, issued, redeemed, expired, balanced: [issued, redeemed, expired].every((f) => f.difference === 0n), checkedAt: now };
  }
}
