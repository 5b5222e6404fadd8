import { describe, expect, it } from 'vitest';
import { isConnectionLoss } from './database';

describe('isConnectionLoss', () => {
  it('knows the errors a killed connection surfaces as (an event must not be dead-lettered for them)', () => {
    // TypeORM 1's QueryRunnerProviderAlreadyReleasedError: a chaos test's kills dead-lettered events with it.
    expect(isConnectionLoss(new Error('Database connection provided by a query runner was already released, cannot continue to use its querying methods anymore.'))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('leaves an event’s own failures to retries and dead letters', () => {
    expect(isConnectionLoss(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isConnectionLoss(new Error('cannot apply this event'))).toBe(false);
  });
});
