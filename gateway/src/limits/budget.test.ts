import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MemoryBudgetStore } from './budget';
import { clientAddress, withoutSuggestions } from './limits';

describe('a token bucket in memory', () => {
  const policy = { capacity: 10, restoreRate: 2 };

  it('starts full, refuses what it does not hold, and says when it will', async () => {
    let now = 0;
    const store = new MemoryBudgetStore(() => now);
    expect(await store.take('a', 7, policy)).toEqual({ allowed: true, available: 3, retryAfterMs: 0 });
    // 3 left, 7 needed, 2 a second: 2 s
    expect(await store.take('a', 7, policy)).toEqual({ allowed: false, available: 3, retryAfterMs: 2000 });
    now = 1999;
    expect((await store.take('a', 7, policy)).allowed).toBe(false);
    now = 2000;
    expect(await store.take('a', 7, policy)).toEqual({ allowed: true, available: 0, retryAfterMs: 0 });
    // never above capacity, however long it rests
    now = 60_000;
    expect((await store.take('a', 1, policy)).available).toBe(9);
    // buckets are per key
    expect((await store.take('b', 10, policy)).allowed).toBe(true);
  });

  it('gives refunds back up to its capacity', async () => {
    const store = new MemoryBudgetStore(() => 0);
    await store.take('a', 8, policy);
    await store.refund('a', 5, policy);
    expect((await store.take('a', 0, policy)).available).toBe(7);
    await store.refund('a', 100, policy);
    expect((await store.take('a', 0, policy)).available).toBe(10);
  });

  it('stays bounded when callers keep changing keys', async () => {
    let now = 0;
    const store = new MemoryBudgetStore(() => now, 100);
    for (let i = 0; i < 1000; i++) await store.take(`k${i}`, 1, policy);
    now = 10_000;
    for (let i = 0; i < 1000; i++) await store.take(`n${i}`, 1, policy);
    expect((store as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(100);
  });
});

describe('the client address a budget is keyed by', () => {
  const req = (remoteAddress: string, forwarded?: string) => ({ socket: { remoteAddress }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  it('is the socket address unless proxies are trusted, IPv4-mapped addresses unwrapped', () => {
    expect(clientAddress(req('::ffff:10.0.0.1', '1.2.3.4'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '1.2.3.4'), 1)).toBe('1.2.3.4');
    // a client's own X-Forwarded-For entries come first; the trusted proxy appended the real one
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.9'), 2)).toBe('1.2.3.4');
  });

  it('keys IPv6 callers by their /64', () => {
    expect(clientAddress(req('2001:db8:1:2::1'), 0)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(req('2001:0db8:0001:0002:ffff:0:0:3'), 0)).toBe('2001:db8:1:2::/64');
    expect(clientAddress(req('2001:db8::1'), 0)).toBe('2001:db8:0:0::/64');
    expect(clientAddress(req('::1'), 0)).toBe('0:0:0:0::/64');
  });
});

describe('suggestions', () => {
  it('are removed from every message, whatever they suggest', () => {
    expect(withoutSuggestions('Cannot query field "fristName" on type "Member". Did you mean "firstName" or "lastName"?')).toBe('Cannot query field "fristName" on type "Member".');
    expect(withoutSuggestions('Variable "$s" got invalid value "ACTIV"; Value "ACTIV" does not exist in "MemberStatus" enum. Did you mean the enum value "ACTIVE"?')).toBe(
      'Variable "$s" got invalid value "ACTIV"; Value "ACTIV" does not exist in "MemberStatus" enum.',
    );
    expect(withoutSuggestions('Unknown type "Membr". Did you mean "Member"? Unknown type "Tir". Did you mean "Tier"?')).toBe('Unknown type "Membr". Unknown type "Tir".');
  });
});
