import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runHarness, type HarnessProfile } from './harness';

/**
 * The short profile of the concurrency harness, run in CI against the test run's PostgreSQL.
 * The long profile runs with `pnpm bench ledger`.
 */
const base = { workers: 16, duplicateRate: 0.1, chaosEveryMs: 40, seed: 20261122 };
const HOT: HarnessProfile = { ...base, name: 'hot', accounts: 8, operations: 600, strategy: 'correct' };
const COLD: HarnessProfile = { ...base, name: 'cold', accounts: 10_000, operations: 600, strategy: 'correct' };

describe('ledger under concurrency and killed connections', () => {
  it('keeps every invariant on a hot profile (8 accounts, 16 workers, duplicates, chaos)', async () => {
    const report = await runHarness(inject('postgresUrl'), HOT);
    expect(report.violations).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(100);
  }, 120_000);

  it('keeps every invariant on a cold profile (10,000 accounts)', async () => {
    const report = await runHarness(inject('postgresUrl'), COLD);
    expect(report.violations).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(100);
  }, 120_000);

  it('catches a deliberately broken idempotency strategy: the audit can fail', async () => {
    const report = await runHarness(inject('postgresUrl'), { ...HOT, name: 'broken', strategy: 'broken', duplicateRate: 0.3 });
    expect(report.violations.join('\n')).toMatch(/adjustment entry not made by exactly one key|more than one entry/);
  }, 120_000);
});
