import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock';
import { TtlCache } from './ttl-cache';

/** Counts loads; each answers with the load's number. */
function counter() {
  let loads = 0;
  return { load: async () => ++loads, loads: () => loads };
}

describe('TtlCache', () => {
  it('answers from the cache until the time is up on the injected clock, then loads again', async () => {
    const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
    const cache = new TtlCache<string, number>(clock, 5_000);
    const { load, loads } = counter();

    expect(await cache.getOrLoad('p1', load)).toBe(1);
    clock.advance(4_999);
    expect(await cache.getOrLoad('p1', load)).toBe(1);
    clock.advance(1);
    expect(await cache.getOrLoad('p1', load)).toBe(2);
    expect(loads()).toBe(2);
  });

  it('keeps keys apart, and forgets one at once when told', async () => {
    const cache = new TtlCache<string, number>(new ManualClock(), 5_000);
    const { load } = counter();

    expect(await cache.getOrLoad('p1', load)).toBe(1);
    expect(await cache.getOrLoad('p2', load)).toBe(2);
    cache.delete('p1');
    expect(await cache.getOrLoad('p1', load)).toBe(3);
    expect(await cache.getOrLoad('p2', load)).toBe(2);
  });

  it('counts an entry’s time from before its load: a slow load does not make it live longer', async () => {
    const clock = new ManualClock();
    const cache = new TtlCache<string, string>(clock, 5_000);
    await cache.getOrLoad('p1', async () => {
      clock.advance(3_000);
      return 'slow';
    });
    clock.advance(2_000);
    expect(await cache.getOrLoad('p1', async () => 'fresh')).toBe('fresh');
  });

  it('starts afresh past its bound instead of growing without end', async () => {
    const cache = new TtlCache<number, number>(new ManualClock(), 5_000, 2);
    const { load, loads } = counter();
    for (const key of [1, 2, 3, 4]) await cache.getOrLoad(key, load);
    expect(loads()).toBe(4);
    // The fourth entry went in after a clear: the first three are gone, the fourth is kept.
    await cache.getOrLoad(4, load);
    await cache.getOrLoad(1, load);
    expect(loads()).toBe(5);
  });
});
