import { InputError } from '@loyalty-graph/shared';
import { rate } from './kpi-formulas';
import { nextBucket } from './periods';

/** Month offsets asked for at most (three years after enrolment), and cohorts per request at most (five years of months). */
export const MAX_COHORT_MONTHS = 36;
export const MAX_COHORTS = 60;

export function checkCohortMonths(months: number): number {
  if (!Number.isInteger(months) || months < 0 || months > MAX_COHORT_MONTHS) throw new InputError(`months must be a whole number from 0 to ${MAX_COHORT_MONTHS}`, 'months');
  return months;
}

export interface CohortMonth {
  /** 0 is the enrolment month itself. */
  offset: number;
  start: Date;
  /** Members of the cohort with a purchase in that month / the cohort's size, 4 decimals; null for an empty cohort or a month not begun yet. */
  share: string | null;
  purchasers: number;
}

/**
 * One cohort's row: for each offset 0..months, the share of its members who bought in that month.
 * A month that has not begun at `now` has no share (null), not a misleading 0.
 */
export function cohortMonths(cohortStart: Date, size: number, purchasersByOffset: ReadonlyMap<number, number>, months: number, now: Date): CohortMonth[] {
  const row: CohortMonth[] = [];
  let start = cohortStart;
  for (let offset = 0; offset <= months; offset++) {
    const purchasers = purchasersByOffset.get(offset) ?? 0;
    const begun = start.getTime() <= now.getTime();
    row.push({ offset, start, purchasers, share: begun ? rate(purchasers, size) : null });
    start = nextBucket('MONTH', start);
  }
  return row;
}
