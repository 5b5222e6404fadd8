import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { LimitsOptions } from './limits';
import { parseTrustedDocuments } from './trusted-documents';
import type { BudgetPolicy } from './weights';

const count = z.coerce.number().int().min(1).optional();
/** `capacity/restoreRate`, e.g. `2000/100`: a bucket of 2,000 points refilled at 100 a second. */
const budget = z
  .string()
  .regex(/^\d+\/\d+(\.\d+)?$/, 'must be capacity/restoreRate, e.g. 2000/100')
  .transform((spec): BudgetPolicy => {
    const [capacity, restoreRate] = spec.split('/').map(Number) as [number, number];
    return { capacity, restoreRate };
  })
  .refine((p) => p.capacity >= 1 && p.restoreRate > 0, 'capacity and restore rate must be positive')
  .optional();

/** The gateway's limit settings (docs/limits.md); every one optional, defaults in weights.ts. */
export const limitsEnv = {
  LIMIT_MAX_COST: count,
  /** The ceiling of a bulk call (recordPurchases), instead of LIMIT_MAX_COST. */
  LIMIT_MAX_BULK_COST: count,
  LIMIT_MAX_ALIASES: count,
  LIMIT_MAX_DIRECTIVES: count,
  LIMIT_MAX_TOKENS: count,
  RATE_LIMIT_ANONYMOUS: budget,
  RATE_LIMIT_MEMBER: budget,
  RATE_LIMIT_STAFF: budget,
  RATE_LIMIT_PARTNER: budget,
  /** Shares the budgets between gateway replicas. */
  RATE_LIMIT_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  /** Load balancers in front of the gateway that append to X-Forwarded-For. */
  RATE_LIMIT_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** The build's trusted-documents manifest (`pnpm trusted-documents`). */
  TRUSTED_DOCUMENTS_PATH: z.string().optional(),
  /** `enforce`: anonymous callers, members and staff may send only the manifest's operations. */
  TRUSTED_DOCUMENTS: z.enum(['off', 'enforce']).default('off'),
  /** `off` only to measure what the limits cost (the benchmarks' baseline); the gateway warns at start. */
  GATEWAY_LIMITS: z.enum(['on', 'off']).default('on'),
};

type LimitsEnv = z.infer<z.ZodObject<typeof limitsEnv>>;

export function limitsFromEnv(env: LimitsEnv): LimitsOptions {
  if (env.TRUSTED_DOCUMENTS === 'enforce' && !env.TRUSTED_DOCUMENTS_PATH) throw new Error('TRUSTED_DOCUMENTS=enforce needs TRUSTED_DOCUMENTS_PATH');
  const budgets: Record<string, BudgetPolicy> = {};
  if (env.RATE_LIMIT_ANONYMOUS) budgets['anonymous'] = env.RATE_LIMIT_ANONYMOUS;
  if (env.RATE_LIMIT_MEMBER) budgets['member'] = env.RATE_LIMIT_MEMBER;
  if (env.RATE_LIMIT_STAFF) budgets['staff'] = env.RATE_LIMIT_STAFF;
  if (env.RATE_LIMIT_PARTNER) budgets['partner'] = env.RATE_LIMIT_PARTNER;
  const operation: Record<string, number> = {};
  if (env.LIMIT_MAX_COST) operation['maxCost'] = env.LIMIT_MAX_COST;
  if (env.LIMIT_MAX_BULK_COST) operation['maxBulkCost'] = env.LIMIT_MAX_BULK_COST;
  if (env.LIMIT_MAX_ALIASES) operation['maxAliases'] = env.LIMIT_MAX_ALIASES;
  if (env.LIMIT_MAX_DIRECTIVES) operation['maxDirectives'] = env.LIMIT_MAX_DIRECTIVES;
  if (env.LIMIT_MAX_TOKENS) operation['maxTokens'] = env.LIMIT_MAX_TOKENS;
  return {
    ...(env.GATEWAY_LIMITS === 'off' ? { off: true } : {}),
    operation,
    budgets,
    trustedProxyHops: env.RATE_LIMIT_TRUSTED_PROXY_HOPS,
    ...(env.RATE_LIMIT_REDIS_URL ? { redisUrl: env.RATE_LIMIT_REDIS_URL } : {}),
    ...(env.TRUSTED_DOCUMENTS_PATH
      ? { trustedDocuments: { documents: parseTrustedDocuments(readFileSync(env.TRUSTED_DOCUMENTS_PATH, 'utf8'), env.TRUSTED_DOCUMENTS_PATH), mode: env.TRUSTED_DOCUMENTS } }
      : {}),
  };
}
