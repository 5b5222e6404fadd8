import type { DataSource } from 'typeorm';
import { CONTROL, peekingWarning, readoutWindows, type ExperimentMetric } from '../domain/experiments';
import { cuped, sampleRatioMismatch, summarize, welch, type SampleRatioCheck, type Unit } from '../domain/statistics';
import type { ExperimentRow } from './experiments';

export interface MetricComparisonRow {
  metric: ExperimentMetric;
  controlMean: number;
  variantMean: number;
  uplift: number;
  relativeUplift: number | null;
  upliftLow: number | null;
  upliftHigh: number | null;
  degreesOfFreedom: number | null;
  pValue: number | null;
  significant: boolean;
  cupedUplift: number | null;
  cupedLow: number | null;
  cupedHigh: number | null;
  cupedPValue: number | null;
  cupedSignificant: boolean;
  theta: number | null;
  varianceReduction: number | null;
}

export interface VariantReadoutRow {
  key: string;
  weight: number;
  expectedShare: number;
  members: number;
  spendPerMember: number;
  purchasesPerMember: number;
  redemptionPerMember: number;
  versusControl: MetricComparisonRow[];
}

export interface Readout {
  from: Date;
  to: Date;
  preFrom: Date;
  primaryMetric: ExperimentMetric;
  holdoutMembers: number;
  variants: VariantReadoutRow[];
  sampleRatio: SampleRatioCheck;
  warnings: string[];
}

interface MemberMetrics {
  variantKey: string;
  holdout: boolean;
  spend: number;
  purchases: number;
  redemption: number;
  preSpend: number;
  prePurchases: number;
  preRedemption: number;
}

const METRICS: readonly ExperimentMetric[] = ['SPEND', 'FREQUENCY', 'REDEMPTION'];
const valueOf = (m: MemberMetrics, metric: ExperimentMetric, pre: boolean): number =>
  metric === 'SPEND' ? (pre ? m.preSpend : m.spend) : metric === 'FREQUENCY' ? (pre ? m.prePurchases : m.purchases) : pre ? m.preRedemption : m.redemption;

/**
 * An experiment's readout from point_facts: per assigned member (holdout members aside: they were
 * not randomised by the experiment) the metrics over [startsAt, min(now, endsAt)) and over the
 * pre-period of the same length, then each variant against control (domain/statistics.ts).
 */
export class Readouts {
  constructor(private readonly db: DataSource) {}

  async readout(experiment: ExperimentRow, now: Date): Promise<Readout> {
    const { from, to, preFrom } = readoutWindows(experiment.startsAt, experiment.endsAt, experiment.plannedEndAt, now);
    // One row per assigned member, zeros for members with no facts (they count: a member who did
    // nothing is an outcome). Spend is the basket total of purchases that earned points (gross of
    // returns); redemption is points redeemed net of refunds.
    const rows = (await this.db.query(
      `SELECT a.variant_key AS "variantKey", a.holdout,
         coalesce(sum(f.amount) FILTER (WHERE f.kind = 'ACCRUED' AND f.occurred_at >= $2), 0)::float8 AS spend,
         count(*) FILTER (WHERE f.kind = 'ACCRUED' AND f.occurred_at >= $2)::float8 AS purchases,
         coalesce(sum(CASE f.kind WHEN 'REDEEMED' THEN f.points WHEN 'REFUNDED' THEN -f.points END) FILTER (WHERE f.occurred_at >= $2), 0)::float8 AS redemption,
         coalesce(sum(f.amount) FILTER (WHERE f.kind = 'ACCRUED' AND f.occurred_at < $2), 0)::float8 AS "preSpend",
         count(*) FILTER (WHERE f.kind = 'ACCRUED' AND f.occurred_at < $2)::float8 AS "prePurchases",
         coalesce(sum(CASE f.kind WHEN 'REDEEMED' THEN f.points WHEN 'REFUNDED' THEN -f.points END) FILTER (WHERE f.occurred_at < $2), 0)::float8 AS "preRedemption"
       FROM experiment_assignments a
       LEFT JOIN point_facts f ON f.program_id = a.program_id AND f.member_id = a.member_id AND f.occurred_at >= $3 AND f.occurred_at < $4
       WHERE a.experiment_id = $1
       GROUP BY a.member_id, a.variant_key, a.holdout`,
      [experiment.id, from, preFrom, to],
    )) as MemberMetrics[];
    const randomised = rows.filter((r) => !r.holdout);
    const byVariant = new Map(experiment.variants.map((v) => [v.key, randomised.filter((r) => r.variantKey === v.key)]));
    const control = byVariant.get(CONTROL) ?? [];
    const totalWeight = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
    const mean = (members: MemberMetrics[], metric: ExperimentMetric) => summarize(members.map((m) => valueOf(m, metric, false))).mean;
    const variants = experiment.variants.map((v): VariantReadoutRow => {
      const members = byVariant.get(v.key) ?? [];
      return {
        key: v.key,
        weight: v.weight,
        expectedShare: v.weight / totalWeight,
        members: members.length,
        spendPerMember: mean(members, 'SPEND'),
        purchasesPerMember: mean(members, 'FREQUENCY'),
        redemptionPerMember: mean(members, 'REDEMPTION'),
        versusControl: v.key === CONTROL ? [] : METRICS.map((metric) => compare(metric, control, members)),
      };
    });
    const warnings: string[] = [];
    const peeking = peekingWarning(to, experiment.plannedEndAt);
    if (peeking) warnings.push(peeking);
    const sampleRatio = sampleRatioMismatch(
      variants.map((v) => v.members),
      variants.map((v) => v.weight),
    );
    if (sampleRatio.mismatch) {
      warnings.push(`Sample ratio mismatch: the split differs from the weights (chi-square p = ${sampleRatio.pValue.toExponential(2)} < 0.001). Look for lost assignments or events before trusting the uplift.`);
    }
    return { from, to, preFrom, primaryMetric: experiment.primaryMetric, holdoutMembers: rows.length - randomised.length, variants, sampleRatio, warnings };
  }
}

function compare(metric: ExperimentMetric, control: MemberMetrics[], treatment: MemberMetrics[]): MetricComparisonRow {
  const units = (members: MemberMetrics[]): Unit[] => members.map((m) => ({ y: valueOf(m, metric, false), x: valueOf(m, metric, true) }));
  const c = summarize(control.map((m) => valueOf(m, metric, false)));
  const t = summarize(treatment.map((m) => valueOf(m, metric, false)));
  const plain = welch(c, t);
  const adjusted = cuped(units(control), units(treatment));
  return {
    metric,
    controlMean: c.mean,
    variantMean: t.mean,
    uplift: t.mean - c.mean,
    relativeUplift: c.mean === 0 ? null : (t.mean - c.mean) / c.mean,
    upliftLow: plain?.low ?? null,
    upliftHigh: plain?.high ?? null,
    degreesOfFreedom: plain?.degreesOfFreedom ?? null,
    pValue: plain?.pValue ?? null,
    significant: plain?.significant ?? false,
    cupedUplift: adjusted?.difference ?? null,
    cupedLow: adjusted?.low ?? null,
    cupedHigh: adjusted?.high ?? null,
    cupedPValue: adjusted?.pValue ?? null,
    cupedSignificant: adjusted?.significant ?? false,
    theta: adjusted?.theta ?? null,
    varianceReduction: adjusted?.varianceReduction ?? null,
  };
}
