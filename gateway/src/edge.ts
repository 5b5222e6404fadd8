import { z } from 'zod';
import { envFields, parseEnv } from '@loyalty-graph/shared';
import { createAuthenticator, type Authenticate } from './auth';
import { claimEnv, claimsFromEnv } from './claims';
import { cachePartnerGrants, createPartnerKeyResolver, type ResolvePartnerKey } from './partner-keys';

/**
 * What any edge in front of our subgraphs needs to speak for a caller: our authentication (the
 * caller's JWT → Viewer) and the secret that signs the viewer for the subgraphs. Shared by the
 * Hive Gateway plugin and the Apollo Router coprocessor, so they read the same environment as
 * our gateway and accept exactly the tokens it accepts.
 */
export interface EdgeAuth {
  authenticate: Authenticate;
  /**
   * Partner API keys → grants, already cached (`cachePartnerGrants`): both edges pass it with
   * `authenticate` to `createRequestAuthenticator`, as our gateway does. Absent: no key is valid.
   */
  partnerKeys?: ResolvePartnerKey | null;
  /** INTERNAL_TOKEN_SECRET, shared with the subgraphs. */
  internalSecret: string;
}

const EdgeEnv = z
  .object({
    INTERNAL_TOKEN_SECRET: envFields.internalSecret,
    // No defaults: an edge that guesses its issuer or audience accepts someone else's tokens.
    JWT_ISSUER: z.string().min(1),
    JWT_AUDIENCE: z.string().min(1),
    JWKS_URL: z.url().optional(),
    /** Development and tests only: HS256 tokens signed with this secret. */
    JWT_SECRET: z.string().min(32).optional(),
    /** The partners subgraph's GraphQL URL, which resolves partner API keys; without it no key is valid. */
    PARTNERS_URL: z.url().optional(),
    ...claimEnv,
  })
  .refine((env) => env.JWKS_URL || env.JWT_SECRET, { message: 'set JWKS_URL (production) or JWT_SECRET (development)' });

/** Reads INTERNAL_TOKEN_SECRET, JWT_ISSUER, JWT_AUDIENCE, JWKS_URL (or JWT_SECRET), PARTNERS_URL and the JWT_CLAIM_* names as the gateway does; lists every problem. */
export function edgeFromEnv(env: Record<string, string | undefined>): EdgeAuth {
  const parsed = parseEnv(EdgeEnv, env);
  return {
    authenticate: createAuthenticator({ issuer: parsed.JWT_ISSUER, audience: parsed.JWT_AUDIENCE, secret: parsed.JWT_SECRET, jwksUrl: parsed.JWKS_URL, claims: claimsFromEnv(parsed) }),
    internalSecret: parsed.INTERNAL_TOKEN_SECRET,
    partnerKeys: parsed.PARTNERS_URL ? cachePartnerGrants(createPartnerKeyResolver({ url: parsed.PARTNERS_URL, internalSecret: parsed.INTERNAL_TOKEN_SECRET })) : null,
  };
}
