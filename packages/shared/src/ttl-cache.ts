import type { Clock } from './clock';

/**
 * A per-process cache whose entries expire after `ttlMs` on the injected clock, so tests move
 * time instead of sleeping. For values other replicas may change (a program's configuration):
 * a replica sees another's edit within `ttlMs`, its own at once (`delete`). Past `maxEntries` it
 * starts afresh rather than tracking which entry is oldest: a bound, not an eviction policy.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The cached value, or what `load` returns (then cached). The entry's time starts before the
   * load, so it never outlives what was current when reading began.
   */
  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (this.entries.size > this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
