import { z } from 'zod';
import { corsOriginsField, envFields } from '@loyalty-graph/shared';
import { claimEnv, claimsFromEnv } from './claims';
import { limitsEnv } from './limits';

/** What development uses when JWT_ISSUER / JWT_AUDIENCE are not set (the dev token issuer signs with these). */
export const DEV_ISSUER = 'loyalty-graph-dev';
export const DEV_AUDIENCE = 'loyalty-graph';

/**
 * The gateway's environment. Production takes nothing on trust: a default issuer or audience
 * would accept tokens minted for another application of the same identity provider, and a secret
 * instead of the provider's key set would make the gateway an issuer itself, so without an
 * explicit JWT_ISSUER, JWT_AUDIENCE and JWKS_URL it refuses to start (docs/identity.md).
 */
export const GatewayEnv = z
  .object({
    PORT: envFields.port(4000),
    NODE_ENV: envFields.nodeEnv,
    LOG_LEVEL: envFields.logLevel,
    INTERNAL_TOKEN_SECRET: envFields.internalSecret,
    /** Development: `members=http://127.0.0.1:4001/graphql,ledger=…`, composed at start. */
    SUBGRAPHS: z.string().optional(),
    /** Production: path to the committed supergraph.graphql. */
    SUPERGRAPH_PATH: z.string().optional(),
    /** The identity provider's `iss`, exactly as it puts it in tokens. Required in production. */
    JWT_ISSUER: z.string().min(1).optional(),
    /** The `aud` this gateway's tokens carry (the API's identifier at the provider). Required in production. */
    JWT_AUDIENCE: z.string().min(1).optional(),
    JWT_SECRET: z.string().min(32).optional(),
    JWKS_URL: z.url().optional(),
    ...claimEnv,
    /** Opt in to @apollo/gateway's usage metrics sent to Apollo (off by default). */
    APOLLO_TELEMETRY: z.enum(['on', 'off']).default('off'),
    /** How long a subgraph may stay silent before its part of an answer is SUBGRAPH_TIMEOUT. */
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    /** Warm up before /ready answers; on by default in production (see warm-up.ts). */
    GATEWAY_WARM_UP: z.enum(['on', 'off']).optional(),
    /** At most this long (ms) warming up; it stops earlier once a batch costs no less than the one before. */
    GATEWAY_WARM_UP_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
    /** Browser origins allowed to call, comma-separated; see corsConfigFromEnv for the defaults. */
    CORS_ORIGINS: corsOriginsField(),
    ...limitsEnv,
  })
  .superRefine((env, ctx) => {
    if (!env.SUBGRAPHS && !env.SUPERGRAPH_PATH) ctx.addIssue({ code: 'custom', path: ['SUBGRAPHS'], message: 'set SUBGRAPHS (development) or SUPERGRAPH_PATH (production)' });
    if (env.NODE_ENV === 'production') {
      const required = { JWT_ISSUER: 'the identity provider’s issuer (the `iss` of its tokens)', JWT_AUDIENCE: 'the audience this API’s tokens carry (`aud`)', JWKS_URL: 'the identity provider’s key set (…/.well-known/jwks.json)' } as const;
      for (const [name, what] of Object.entries(required)) {
        if (!env[name as keyof typeof required]) ctx.addIssue({ code: 'custom', path: [name], message: `required in production: ${what}; there is no default` });
      }
      if (env.JWT_SECRET) ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'development only: production verifies tokens with JWKS_URL' });
    } else if (!env.JWT_SECRET && !env.JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'set JWKS_URL (production) or JWT_SECRET (development)' });
    }
  })
  .transform((env) => ({
    ...env,
    JWT_ISSUER: env.JWT_ISSUER ?? DEV_ISSUER,
    JWT_AUDIENCE: env.JWT_AUDIENCE ?? DEV_AUDIENCE,
    claims: claimsFromEnv(env),
  }));

export type GatewayEnv = z.infer<typeof GatewayEnv>;
