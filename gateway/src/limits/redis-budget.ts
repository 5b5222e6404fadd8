import { Redis } from 'ioredis';
import type { Logger } from '@loyalty-graph/shared';
import { retryAfterMs, type BudgetDecision, type BudgetStore } from './budget';
import type { BudgetPolicy } from './weights';

/**
 * One token bucket per key, read, refilled and taken in one script: Redis runs a script
 * atomically, so two replicas taking from the same bucket at once cannot both spend the same
 * points. Time comes from Redis (TIME), not from the replicas, whose clocks may disagree. The key
 * expires once the bucket would be full again: an idle caller costs no memory.
 * Returns {allowed, tokens as a string} (Lua numbers become integers on the way out).
 */
const TAKE = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1])
local at = tonumber(bucket[2])
if tokens == nil or at == nil then
  tokens = capacity
else
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
`;

/** Gives points back to a bucket that still exists (one that expired is full anyway). */
const REFUND = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1])
local at = tonumber(bucket[2])
if tokens == nil or at == nil then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000 + points)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return 1
`;

interface BudgetCommands {
  takeBudget(key: string, capacity: number, restoreRate: number, cost: number): Promise<[number, string]>;
  refundBudget(key: string, capacity: number, restoreRate: number, points: number): Promise<number>;
}

/**
 * Budgets shared by every gateway replica (RATE_LIMIT_REDIS_URL). When Redis does not answer, an
 * operation is let through (its cost is still capped per operation) and the failure is logged: a
 * budget store outage must not take the whole graph down with it.
 */
export class RedisBudgetStore implements BudgetStore {
  private readonly redis: Redis & BudgetCommands;
  private lastWarning = 0;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly prefix = 'lg:budget:',
  ) {
    const redis = new Redis(url, {
      // While (re)connecting, a command waits at most this long, then the operation is let through:
      // an unreachable Redis slows requests by a quarter second, it does not stop them.
      commandTimeout: 250,
      maxRetriesPerRequest: 1,
    });
    redis.on('error', (error: unknown) => this.warn('budget store unreachable', error));
    redis.defineCommand('takeBudget', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('refundBudget', { numberOfKeys: 1, lua: REFUND });
    this.redis = redis as Redis & BudgetCommands;
  }

  /** Resolves once connected, rejects if Redis cannot be reached in time (tests; the gateway's start). */
  async ping(timeoutMs = 2000): Promise<void> {
    if (this.redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
        this.redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.redis.ping();
  }

  async take(key: string, cost: number, policy: BudgetPolicy): Promise<BudgetDecision> {
    try {
      const [allowed, tokens] = await this.redis.takeBudget(this.prefix + key, policy.capacity, policy.restoreRate, cost);
      const available = Number(tokens);
      return allowed === 1 ? { allowed: true, available, retryAfterMs: 0 } : { allowed: false, available, retryAfterMs: retryAfterMs(available, cost, policy) };
    } catch (error) {
      this.warn('budget store failed; operation let through', error);
      return { allowed: true, available: policy.capacity, retryAfterMs: 0 };
    }
  }

  async refund(key: string, points: number, policy: BudgetPolicy): Promise<void> {
    try {
      await this.redis.refundBudget(this.prefix + key, policy.capacity, policy.restoreRate, points);
    } catch (error) {
      this.warn('budget store failed; refund lost', error);
    }
  }

  private warn(message: string, error: unknown): void {
    if (Date.now() - this.lastWarning < 60_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(message, { error: error instanceof Error ? error.message : String(error) });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
