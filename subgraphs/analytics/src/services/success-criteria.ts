import { forbidden, InputError, isUuid, type Clock, type Viewer } from '@loyalty-graph/shared';
import { withRetries } from '@loyalty-graph/shared/db';
import type { DataSource } from 'typeorm';
import { KPI_NAMES, WINDOWED_KPIS, type KpiName } from '../domain/kpi-definitions';
import { decimalToScaled, meets, type Comparison } from '../domain/kpi-formulas';
import { kpiValue } from '../domain/kpi-values';
import type { Period } from '../domain/periods';
import { canConfigureAnalytics } from '../domain/policy';
import type { KpiBucket, Kpis } from './kpis';
import { checkTargetSegment } from './segment-targets';

export type ActivityKind = 'BENEFIT' | 'SERVICE' | 'OFFER';

export interface SuccessCriterion {
  id: string;
  programId: string;
  activityKind: ActivityKind;
  activityId: string;
  activityName: string;
  kpi: KpiName;
  comparison: Comparison;
  target: string;
  segmentId: string | null;
  period: Period;
}

export interface CriterionValue {
  start: Date;
  end: Date;
  value: string | null;
  met: boolean;
  definitionVersion: number;
}

/** A criterion read over a range: as a whole, and per bucket of its period. */
export interface SuccessCriterionReadout extends Omit<CriterionValue, 'start' | 'end' | 'definitionVersion'> {
  criterion: SuccessCriterion;
  target: string;
  periods: CriterionValue[];
}

export interface DefineSuccessCriterionInput {
  programId: string;
  activity: { kind: ActivityKind; id: string; name: string };
  kpi: KpiName;
  comparison: Comparison;
  target: string;
  segmentId?: string | null;
  period: Period;
}

const columns = `id, program_id AS "programId", activity_kind AS "activityKind", activity_id AS "activityId", activity_name AS "activityName", kpi, comparison,
  trim_scale(target)::text AS target, segment_id AS "segmentId", period`;

/**
 * What a relational activity is meant to achieve. Keyed by (program, activity, KPI, segment):
 * defining the same criterion again (a retry, or a new target) updates it in place, so a retry is
 * harmless and two concurrent definitions leave one row (the last one written).
 */
export class SuccessCriteria {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  async define(viewer: Viewer, input: DefineSuccessCriterionInput): Promise<SuccessCriterion> {
    if (!isUuid(input.programId)) throw new InputError('programId is not an id', 'programId');
    if (!canConfigureAnalytics(viewer, input.programId)) throw forbidden('Only the program’s administrators define success criteria');
    if (!isUuid(input.activity.id)) throw new InputError('activity.id is not an id', 'activity.id');
    const name = input.activity.name.trim();
    if (name.length < 1 || name.length > 200) throw new InputError('activity.name must be 1 to 200 characters', 'activity.name');
    if (!KPI_NAMES.includes(input.kpi)) throw new InputError('kpi is not a bucket KPI', 'kpi');
    if (input.segmentId != null && !isUuid(input.segmentId)) throw new InputError('segmentId is not an id', 'segmentId');
    let scaled: bigint;
    try {
      scaled = decimalToScaled(input.target, 6);
    } catch {
      throw new InputError('target must be a decimal with at most 6 decimals', 'target');
    }
    if (scaled >= 10n ** 24n || scaled <= -(10n ** 24n)) throw new InputError('target is too large', 'target');
    if (input.segmentId != null) await checkTargetSegment(this.db, input.programId, input.segmentId);
    const now = this.clock.now();
    const [row] = (await withRetries(() =>
      this.db.query(
        `INSERT INTO success_criteria (program_id, activity_kind, activity_id, activity_name, kpi, comparison, target, segment_id, period, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         ON CONFLICT (program_id, activity_kind, activity_id, kpi, segment_id)
         DO UPDATE SET activity_name = $4, comparison = $6, target = $7, period = $9, updated_at = $11
         RETURNING ${columns}`,
        [input.programId, input.activity.kind, input.activity.id, name, input.kpi, input.comparison, input.target, input.segmentId ?? null, input.period, viewer.subject ?? 'unknown', now],
      ),
    )) as SuccessCriterion[];
    return row!;
  }

  async list(programId: string): Promise<SuccessCriterion[]> {
    return (await this.db.query(`SELECT ${columns} FROM success_criteria WHERE program_id = $1 ORDER BY activity_kind, activity_name, kpi, created_at, id`, [programId])) as SuccessCriterion[];
  }

  /** Every criterion of the program read over [from, to), for its segment. */
  async readout(programId: string, from: Date, to: Date, kpis: Kpis): Promise<SuccessCriterionReadout[]> {
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to.getTime() <= from.getTime()) throw new InputError('to must be after from', 'to');
    const judged = async (c: SuccessCriterion, b: KpiBucket): Promise<CriterionValue> => {
      // Activity is loaded only for the KPIs that need it (it is the costly figure).
      const activity = WINDOWED_KPIS.has(c.kpi) ? await b.activity() : { active: 0, activeAtStart: 0, retained: 0, churned: 0 };
      const value = kpiValue({ ...b, ...activity }, c.kpi);
      return { start: b.start, end: b.end, value, met: meets(value, c.comparison, c.target), definitionVersion: b.definitionVersion };
    };
    const readouts: SuccessCriterionReadout[] = [];
    for (const criterion of await this.list(programId)) {
      const filter = { segmentId: criterion.segmentId };
      // The whole range as one span (its version: the one in force at `from`), then per period.
      const [whole] = await kpis.compute(programId, criterion.period, [{ start: from, end: to }], filter);
      const periods = await kpis.buckets(programId, criterion.period, from, to, filter);
      const overall = await judged(criterion, whole!);
      readouts.push({ criterion, target: criterion.target, value: overall.value, met: overall.met, periods: await Promise.all(periods.map((b) => judged(criterion, b))) });
    }
    return readouts;
  }
}
