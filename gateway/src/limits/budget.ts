import type { BudgetPolicy } from './weights';

/** What a caller's bucket says about one operation. */
export interface BudgetDecision {
  allowed: boolean;
  /** Points left after this operation (before it, when refused). */
  available: number;
  /** When refused: how long until the bucket holds enough for this cost. */
  retryAfterMs: number;
}

/**
 * Where the per-caller budgets live. Every replica of the gateway must see the same buckets, or a
 * caller gets N times the budget behind N replicas: one process (memory) or a shared Redis.
 */
export interface BudgetStore {
  /** Takes `cost` points from the bucket `key` if it holds them, atomically. */
  take(key: string, cost: number, policy: BudgetPolicy): Promise<BudgetDecision>;
  /** Gives back what an operation was charged beyond its actual cost (never above capacity). */
  refund(key: string, points: number, policy: BudgetPolicy): Promise<void>;
  /** Resolves when the store can answer (a remote one is connected). */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

export function retryAfterMs(available: number, cost: number, policy: BudgetPolicy): number {
  return Math.max(0, Math.ceil(((cost - available) / policy.restoreRate) * 1000));
}

/**
 * Token buckets in this process: for development, tests and a single replica. A bucket refills
 * continuously; a full one is indistinguishable from a new one, so full buckets are dropped when
 * the map grows (an attacker cycling addresses cannot grow it without bound).
 */
export class MemoryBudgetStore implements BudgetStore {
  /** tokens at `at`; `fullAt`: when the bucket is full again, and can be forgotten. */
  private readonly buckets = new Map<string, { tokens: number; at: number; fullAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxBuckets = 100_000,
  ) {}

  async take(key: string, cost: number, policy: BudgetPolicy): Promise<BudgetDecision> {
    const now = this.now();
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(policy.capacity, bucket.tokens + ((now - bucket.at) / 1000) * policy.restoreRate) : policy.capacity;
    if (tokens < cost) {
      this.set(key, tokens, now, policy);
      return { allowed: false, available: tokens, retryAfterMs: retryAfterMs(tokens, cost, policy) };
    }
    if (!bucket && this.buckets.size >= this.maxBuckets) this.sweep(now);
    this.set(key, tokens - cost, now, policy);
    return { allowed: true, available: tokens - cost, retryAfterMs: 0 };
  }

  async refund(key: string, points: number, policy: BudgetPolicy): Promise<void> {
    const bucket = this.buckets.get(key);
    if (!bucket) return; // already full and swept
    const now = this.now();
    const tokens = bucket.tokens + ((now - bucket.at) / 1000) * policy.restoreRate + points;
    this.set(key, Math.min(policy.capacity, tokens), now, policy);
  }

  private set(key: string, tokens: number, now: number, policy: BudgetPolicy): void {
    this.buckets.set(key, { tokens, at: now, fullAt: now + ((policy.capacity - tokens) / policy.restoreRate) * 1000 });
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
    // Still full of spent buckets: an attack on many keys. Forgetting them all is the bound.
    if (this.buckets.size >= this.maxBuckets) this.buckets.clear();
  }

  async close(): Promise<void> {}
}
