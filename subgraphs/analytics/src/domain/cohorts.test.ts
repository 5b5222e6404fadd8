import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { checkCohortMonths, cohortMonths } from './cohorts';

const at = (iso: string) => new Date(iso);

describe('cohortMonths', () => {
  it('gives each offset’s share of the cohort, calendar months later (UTC)', () => {
    const row = cohortMonths(at('2026-01-01T00:00:00Z'), 4, new Map([[0, 4], [2, 1]]), 2, at('2026-12-01T00:00:00Z'));
    expect(row.map((m) => [m.offset, m.start.toISOString().slice(0, 10), m.purchasers, m.share])).toEqual([
      [0, '2026-01-01', 4, '1.0000'],
      [1, '2026-02-01', 0, '0.0000'],
      [2, '2026-03-01', 1, '0.2500'],
    ]);
  });

  it('has no share for a month not begun yet, nor for an empty cohort', () => {
    const row = cohortMonths(at('2026-11-01T00:00:00Z'), 3, new Map([[0, 1]]), 2, at('2026-12-01T00:00:00Z'));
    expect(row.map((m) => m.share)).toEqual(['0.3333', '0.0000', null]);
    expect(cohortMonths(at('2026-01-01T00:00:00Z'), 0, new Map(), 1, at('2026-12-01T00:00:00Z')).map((m) => m.share)).toEqual([null, null]);
  });
});

describe('checkCohortMonths', () => {
  it('accepts 0 to 36 whole months', () => {
    expect(checkCohortMonths(0)).toBe(0);
    expect(checkCohortMonths(36)).toBe(36);
    for (const months of [-1, 37, 2.5]) expect(() => checkCohortMonths(months)).toThrow(InputError);
  });
});
