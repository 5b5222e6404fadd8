import { z } from 'zod';

/**
 * Validates a service's environment once at start. Every problem is reported together, so an
 * operator fixes them in one go; nothing else in a service reads `process.env`.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new EnvError(`Invalid environment:\n${problems.join('\n')}`);
}

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Reusable pieces of environment schemas. */
export const envFields = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  internalSecret: z.string().min(32, 'must be at least 32 characters (generate one with `openssl rand -hex 32`)'),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  nodeEnv: z.enum(['development', 'production', 'test']).default('development'),
};

/** Parses `name=url,name=url` lists (SUBGRAPH_URLS, the gateway's SUBGRAPHS). */
export function parseServiceList(spec: string): { name: string; url: string }[] {
  return spec
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [name, url] = pair.split('=');
      if (!name || !url) throw new Error(`"${pair}" must be name=url`);
      return { name, url };
    });
}
