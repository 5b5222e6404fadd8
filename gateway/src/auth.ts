import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ANONYMOUS, STAFF_ROLES, unauthenticated, type StaffRole, type Viewer } from '@loyalty-graph/shared';
import { claimAt, DEFAULT_CLAIMS, type ClaimNames } from './claims';
import type { BudgetPolicy } from './limits/weights';
import { PARTNER_KEY_PATTERN, partnerBudget, partnerViewer, type ResolvePartnerKey } from './partner-keys';

/**
 * Client credentials → viewer. A bearer JWT from the identity provider (JWKS in production, a
 * secret generated at start in development). No credentials → anonymous, who sees only what is
 * public. Bad credentials are an error, never a silent downgrade to anonymous.
 *
 * Claims we read (besides iss/aud/exp), each under a configurable name (`claims`, from the
 * JWT_CLAIM_* variables; docs/identity.md is the contract for integrators):
 *   sub        the person's stable login id
 *   kind       "member" | "staff"
 *   programId  the program the person belongs to (absent for platform operators)
 *   memberId   optional: the member's id; without it the subgraphs tie the subject to its member
 *   roles      staff roles: ADMIN, AGENT, FULFILMENT, ANALYST (case-insensitive; others ignored)
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
  /** Where our claims are in the provider's tokens; the plain names by default. */
  claims?: ClaimNames;
}

export type Authenticate = (authorization: string | undefined) => Promise<Viewer>;

export function createAuthenticator(options: AuthOptions): Authenticate {
  let key: Uint8Array | JWTVerifyGetKey;
  if (options.jwksUrl) key = createRemoteJWKSet(new URL(options.jwksUrl));
  else if (options.secret) key = new TextEncoder().encode(options.secret);
  else throw new Error('Configure JWKS_URL (production) or JWT_SECRET (development)');

  const claimNames = options.claims ?? DEFAULT_CLAIMS;
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
        // A token without an expiry would be valid forever; the subject is checked by its configured name.
        requiredClaims: ['exp'],
      }));
    } catch {
      throw unauthenticated('The access token is invalid or has expired', 401);
    }
    const viewer = viewerFromClaims(payload, claimNames);
    // Remember for at most a minute, so a JWKS key rotation or revocation list applies quickly.
    const expiresAt = Math.min((payload.exp ?? 0) * 1000, Date.now() + 60_000);
    if (verified.size > 10_000) verified.clear();
    verified.set(match[1]!, { viewer, expiresAt });
    return viewer;
  };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/** Roles as an array (Keycloak, Entra, Auth0) or one space- or comma-separated string; ours only, any case. */
function staffRoles(value: unknown): StaffRole[] {
  const raw = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const roles = raw.map((r) => (typeof r === 'string' ? r.toUpperCase() : '')).filter((r): r is StaffRole => STAFF_ROLES.includes(r as StaffRole));
  return [...new Set(roles)];
}

export function viewerFromClaims(claims: JWTPayload, names: ClaimNames = DEFAULT_CLAIMS): Viewer {
  const subject = text(claimAt(claims, names.subject));
  if (!subject) throw unauthenticated(`The access token has no subject (claim ${names.subject})`, 401);
  const programId = text(claimAt(claims, names.programId));
  switch (claimAt(claims, names.kind)) {
    case 'member':
      if (!programId) throw unauthenticated(`A member token must name its program (claim ${names.programId})`, 401);
      return { ...ANONYMOUS, kind: 'MEMBER', subject, programId, memberId: text(claimAt(claims, names.memberId)) };
    case 'staff': {
      const roles = staffRoles(claimAt(claims, names.roles));
      if (roles.length === 0) throw unauthenticated(`A staff token must carry at least one role (claim ${names.roles})`, 401);
      // Without a program a staff member acts across programs: only platform operators (ADMIN).
      if (!programId && !roles.includes('ADMIN')) throw unauthenticated('A staff token without a program must be a platform operator (ADMIN)', 401);
      return { ...ANONYMOUS, kind: 'STAFF', subject, programId, roles, scopes: staffScopes(claims['scope']) };
    }
    default:
      throw unauthenticated(`The access token has an unknown kind (claim ${names.kind}: "member" or "staff")`, 401);
  }
}

/** Scopes we act on; anything else an identity provider puts in `scope` is ignored. */
const STAFF_SCOPES = new Set(['graph:any-operation']);

function staffScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => STAFF_SCOPES.has(s)) : [];
}

/** A request's credential headers, each as sent (an array when the header came more than once). */
export interface Credentials {
  authorization?: string | readonly string[] | null;
  /** `X-Api-Key`. */
  apiKey?: string | readonly string[] | null;
}

/** Who is calling, and for a partner client with a budget of its own, that budget. */
export interface AuthenticatedCaller {
  viewer: Viewer;
  budget?: BudgetPolicy;
}

export type AuthenticateRequest = (credentials: Credentials) => Promise<AuthenticatedCaller>;

export interface RequestAuthOptions {
  /** Bearer JWTs (members, staff). */
  authenticate: Authenticate;
  /**
   * Partner API keys → grants, cached (`cachePartnerGrants`). Absent: this deployment has no
   * partners subgraph, so no key is valid.
   */
  partnerKeys?: ResolvePartnerKey | null;
}

const INVALID_KEY = 'The API key is invalid, expired or revoked';

/**
 * The one place every edge (our gateway, the Hive Gateway plugin, the Apollo Router coprocessor)
 * turns a request's headers into a caller:
 *
 *   X-Api-Key: lgp_…               a partner key (ARCHITECTURE.md's convention)
 *   Authorization: Bearer lgp_…    the same, for OAuth-style clients that can only send a bearer
 *                                  credential; told from a JWT by the prefix (a JWT starts `eyJ`)
 *   Authorization: Bearer <JWT>    a member or staff token (`authenticate`)
 *   nothing                        anonymous
 *
 * Both headers at once is refused (400): they may name two different callers, and whichever we
 * picked, a proxy or library that adds one header behind the client's back would silently decide
 * whose budget, scopes and data the request gets. A header sent twice is refused (401) for the
 * same reason. A key that is not shaped like one is refused without asking the partners subgraph.
 */
export function createRequestAuthenticator(options: RequestAuthOptions): AuthenticateRequest {
  const partnerKey = async (key: string): Promise<AuthenticatedCaller> => {
    if (!PARTNER_KEY_PATTERN.test(key) || !options.partnerKeys) throw unauthenticated(INVALID_KEY, 401);
    const grant = await options.partnerKeys(key);
    if (!grant) throw unauthenticated(INVALID_KEY, 401);
    const budget = partnerBudget(grant);
    return budget ? { viewer: partnerViewer(grant), budget } : { viewer: partnerViewer(grant) };
  };
  return async (credentials) => {
    const authorization = single(credentials.authorization, 'Authorization');
    const apiKey = single(credentials.apiKey, 'X-Api-Key');
    if (authorization !== undefined && apiKey !== undefined) throw unauthenticated('Send one credential: an X-Api-Key or an Authorization header, not both', 400);
    if (apiKey !== undefined) return partnerKey(apiKey.trim());
    const bearerKey = authorization === undefined ? null : /^Bearer\s+(lgp_\S*)\s*$/i.exec(authorization);
    if (bearerKey) return partnerKey(bearerKey[1]!);
    return { viewer: await options.authenticate(authorization) };
  };
}

function single(value: string | readonly string[] | null | undefined, name: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length > 1) throw unauthenticated(`Send one ${name} header`, 401);
  return value[0];
}
