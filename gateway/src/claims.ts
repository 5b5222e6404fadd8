import { z } from 'zod';
/**
 * Where the gateway finds our claims in an identity provider's token (docs/identity.md). Each is a
 * claim name or a dotted path into nested objects: `realm_access.roles` (Keycloak), or a namespaced
 * claim whose own name has dots, `https://loyalty.example.com/claims.programId` (Auth0 requires
 * namespaced custom claims): the longest key that exists at each level wins, so a URL-like name is
 * read as one key.
 */
export interface ClaimNames {
  /** The person's stable login id; `sub` unless the provider has a better one (Entra: `oid`). */
  subject: string;
  kind: string;
  programId: string;
  memberId: string;
  roles: string;
}

export const DEFAULT_CLAIMS: ClaimNames = { subject: 'sub', kind: 'kind', programId: 'programId', memberId: 'memberId', roles: 'roles' };

/** The value at `path` in the claims, or undefined. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  const segments = path.split('.');
  // Longest prefix first: `https://x.example/claims.programId` is the key `https://x.example/claims`, then `programId`.
  for (let i = segments.length - 1; i >= 1; i--) {
    const key = segments.slice(0, i).join('.');
    if (!Object.hasOwn(claims, key)) continue;
    const inner = claims[key];
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return undefined;
    return claimAt(inner as Record<string, unknown>, segments.slice(i).join('.'));
  }
  return undefined;
}

/**
 * Where in the token each of our claims is (a name or a dotted path, e.g. `realm_access.roles`).
 * Shared with every edge that authenticates for us (the Hive plugin, the Router coprocessor), so a
 * deployment maps its identity provider once and every edge reads tokens alike.
 */
export const claimEnv = {
  JWT_CLAIM_SUBJECT: z.string().min(1).default(DEFAULT_CLAIMS.subject),
  JWT_CLAIM_KIND: z.string().min(1).default(DEFAULT_CLAIMS.kind),
  JWT_CLAIM_PROGRAM_ID: z.string().min(1).default(DEFAULT_CLAIMS.programId),
  JWT_CLAIM_MEMBER_ID: z.string().min(1).default(DEFAULT_CLAIMS.memberId),
  JWT_CLAIM_ROLES: z.string().min(1).default(DEFAULT_CLAIMS.roles),
};

export function claimsFromEnv(env: { [K in keyof typeof claimEnv]: string }): ClaimNames {
  return { subject: env.JWT_CLAIM_SUBJECT, kind: env.JWT_CLAIM_KIND, programId: env.JWT_CLAIM_PROGRAM_ID, memberId: env.JWT_CLAIM_MEMBER_ID, roles: env.JWT_CLAIM_ROLES };
}
