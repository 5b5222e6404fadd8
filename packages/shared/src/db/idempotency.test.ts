import { describe, expect, it } from 'vitest';
import { requestHash, validateKey, withRetries } from './idempotency';

describe('requestHash', () => {
  it('ignores the order of object keys and undefined fields, and reads dates as instants', () => {
    const at = new Date('2026-03-01T10:00:00Z');
    expect(requestHash('op', { a: 1, b: { c: [1, 2], d: at } })).toBe(requestHash('op', { b: { d: new Date(at), c: [1, 2] }, a: 1, e: undefined }));
  });

  it('tells apart operations, values and the order of list items', () => {
    const hash = requestHash('recordPurchase', { points: [1, 2] });
    expect(requestHash('holdPoints', { points: [1, 2] })).not.toBe(hash);
    expect(requestHash('recordPurchase', { points: [2, 1] })).not.toBe(hash);
    expect(requestHash('recordPurchase', { points: [1, 2], extra: null })).not.toBe(hash);
  });
});

describe('validateKey', () => {
  it('takes 8 to 100 letters, digits and . _ : -', () => {
    expect(() => validateKey('order-2026:01_a.b')).not.toThrow();
    for (const key of ['short', 'x'.repeat(101), 'has space', 'slash/es']) expect(() => validateKey(key), key).toThrow(/idempotencyKey/);
  });
});

/** An attempt that fails with the given errors first, then succeeds; counts its calls. */
function failing(...errors: unknown[]) {
  let calls = 0;
  return {
    attempt: async () => {
      calls++;
      if (errors.length) throw errors.shift();
      return 'done';
    },
    calls: () => calls,
  };
}

const pgError = (code: string) => Object.assign(new Error(code), { driverError: { code } });

describe('withRetries', () => {
  it('retries serialization failures and deadlocks (as TypeORM or pg reports them) until the attempt goes through', async () => {
    const run = failing(pgError('40001'), pgError('40P01'), Object.assign(new Error('raw'), { code: '40001' }));
    expect(await withRetries(run.attempt)).toBe('done');
    expect(run.calls()).toBe(4);
  });

  it('gives up after five attempts and throws the last error', async () => {
    const run = failing(...Array.from({ length: 5 }, () => pgError('40001')));
    await expect(withRetries(run.attempt)).rejects.toThrow('40001');
    expect(run.calls()).toBe(5);
  });

  it('throws anything else at once, a lost connection included unless the caller says retrying is safe', async () => {
    const unique = failing(pgError('23505'));
    await expect(withRetries(unique.attempt)).rejects.toThrow('23505');
    expect(unique.calls()).toBe(1);

    const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
    const unsafe = failing(lost());
    await expect(withRetries(unsafe.attempt)).rejects.toThrow('Connection terminated');
    expect(unsafe.calls()).toBe(1);

    const safe = failing(lost());
    expect(await withRetries(safe.attempt, (error) => (error as { code?: string }).code === '57P01')).toBe('done');
    expect(safe.calls()).toBe(2);
  });
});
