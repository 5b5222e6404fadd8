import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ANONYMOUS, STAFF_ROLES, unauthenticated, type StaffRole, type Viewer } from '@loyalty-graph/shared';

/**
 * Client credentials → viewer. A bearer JWT from the identity provider (JWKS in production, a
 * secret generated at start in development). No credentials → anonymous, who sees only what is
 * public. Bad credentials are an error, never a silent downgrade to anonymous.
 *
 * Claims we read (besides sub/iss/aud/exp):
 *   kind       "member" | "staff"
 *   programId  the program the person belongs to (absent for platform operators)
 *   memberId   the member's id, once enrolled
 *   roles      staff roles: ADMIN, AGENT, FULFILMENT, ANALYST
 *   scope      OAuth scopes, space-separated; staff only, of which we know graph:any-operation
 *              (staff tools may send operations outside the trusted documents, docs/limits.md)
 */
export interface AuthOptions {
  issuer: string;
  audience: string;
  /** Development: HS256 with a secret generated at start. */
  secret?: string;
  /** Production: the identity provider's key set. */
  jwksUrl?: string;
}

export type Authenticate = (authorization: string | undefined) => Promise<Viewer>;

export function createAuthenticator(options: AuthOptions): Authenticate {
  let key: Uint8Array | JWTVerifyGetKey;
  if (options.jwksUrl) key = createRemoteJWKSet(new URL(options.jwksUrl));
  else if (options.secret) key = new TextEncoder().encode(options.secret);
  else throw new Error('Configure JWKS_URL (production) or JWT_SECRET (development)');

  // A client sends the same token on every request until it expires: verify it once.
  const verified = new Map<string, { viewer: Viewer; expiresAt: number }>();

  return async (authorization) => {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"', 401);
    const hit = verified.get(match[1]!);
    if (hit && hit.expiresAt > Date.now()) return hit.viewer;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, key as Uint8Array, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: options.jwksUrl ? ['RS256', 'ES256', 'EdDSA'] : ['HS256'],
        // A token without an expiry would be valid forever.
        requiredClaims: ['exp', 'sub'],
      }));
    } catch {
      throw unauthenticated('The access token is invalid or has expired', 401);
    }
    const viewer = viewerFromClaims(payload);
    // Remember for at most a minute, so a JWKS key rotation or revocation list applies quickly.
    const expiresAt = Math.min((payload.exp ?? 0) * 1000, Date.now() + 60_000);
    if (verified.size > 10_000) verified.clear();
    verified.set(match[1]!, { viewer, expiresAt });
    return viewer;
  };
}

function viewerFromClaims(claims: JWTPayload): Viewer {
  const subject = typeof claims.sub === 'string' ? claims.sub : null;
  if (!subject) throw unauthenticated('The access token has no subject', 401);
  const programId = typeof claims['programId'] === 'string' ? claims['programId'] : null;
  switch (claims['kind']) {
    case 'member':
      if (!programId) throw unauthenticated('A member token must name its program', 401);
      return { ...ANONYMOUS, kind: 'MEMBER', subject, programId, memberId: typeof claims['memberId'] === 'string' ? claims['memberId'] : null };
    case 'staff': {
      const roles = Array.isArray(claims['roles']) ? claims['roles'].filter((r): r is StaffRole => STAFF_ROLES.includes(r as StaffRole)) : [];
      if (roles.length === 0) throw unauthenticated('A staff token must carry at least one role', 401);
      // Without a program a staff member acts across programs: only platform operators (ADMIN).
      if (!programId && !roles.includes('ADMIN')) throw unauthenticated('A staff token without a program must be a platform operator (ADMIN)', 401);
      return { ...ANONYMOUS, kind: 'STAFF', subject, programId, roles, scopes: staffScopes(claims['scope']) };
    }
    default:
      throw unauthenticated('The access token has an unknown kind', 401);
  }
}

/** Scopes we act on; anything else an identity provider puts in `scope` is ignored. */
const STAFF_SCOPES = new Set(['graph:any-operation']);

function staffScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => STAFF_SCOPES.has(s)) : [];
}
