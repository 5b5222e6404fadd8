import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** Who is calling. Built by the gateway from the client's credentials; subgraphs only ever see this. */
export type ViewerKind = 'ANONYMOUS' | 'MEMBER' | 'STAFF' | 'PARTNER' | 'SERVICE';
export type StaffRole = 'ADMIN' | 'AGENT' | 'FULFILMENT' | 'ANALYST';
export const STAFF_ROLES: readonly StaffRole[] = ['ADMIN', 'AGENT', 'FULFILMENT', 'ANALYST'];

export interface Viewer {
  kind: ViewerKind;
  /** Identity-provider subject, partner client id or service name; null when anonymous. */
  subject: string | null;
  /**
   * The program the viewer acts in. Null for anonymous and for platform operators
   * (staff not bound to one program, who create and run programs).
   */
  programId: string | null;
  /** Set for members once they are enrolled. */
  memberId: string | null;
  partnerId: string | null;
  roles: StaffRole[];
  scopes: string[];
}

export const ANONYMOUS: Viewer = Object.freeze({
  kind: 'ANONYMOUS',
  subject: null,
  programId: null,
  memberId: null,
  partnerId: null,
  roles: [],
  scopes: [],
}) as Viewer;

export function serviceViewer(name: string): Viewer {
  return { ...ANONYMOUS, kind: 'SERVICE', subject: name, roles: [], scopes: [] };
}

/** The header that carries the internal viewer token from the gateway to subgraphs. */
export const VIEWER_HEADER = 'x-lg-viewer';
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The request id to log and forward under: the caller's own when it is harmless (it ends up in
 * log lines and support tickets), a fresh UUID otherwise. Used by the Hive Gateway plugin and the
 * Apollo Router coprocessor; our own server applies the same rule in http.ts.
 */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && /^[\w.:-]{1,100}$/.test(header) ? header : randomUUID();
}

const ISSUER = 'loyalty-graph/gateway';
const AUDIENCE = 'loyalty-graph/subgraph';
/** Short-lived on purpose: a leaked internal token is worthless within a minute. */
const TOKEN_TTL_SECONDS = 60;
/**
 * Reuse a signed token while it has at least this long to live: as long as the gateway waits for a
 * subgraph (SUBGRAPH_TIMEOUT_MS, 30 s by default), so a request queued behind a burst is never
 * refused for a token that expired while it waited.
 */
const REUSE_MARGIN_SECONDS = 30;

function keyOf(secret: string): Uint8Array {
  if (secret.length < 32) throw new Error('The internal token secret must be at least 32 characters');
  return new TextEncoder().encode(secret);
}

/**
 * Signs viewers into internal tokens. Signing is cached per distinct viewer so a busy gateway
 * does not pay an HMAC per request for the same caller.
 */
export function createViewerSigner(secret: string) {
  const key = keyOf(secret);
  const cache = new Map<string, { token: string; expiresAt: number }>();
  return async function sign(viewer: Viewer): Promise<string> {
    const cacheKey = JSON.stringify(viewer);
    const now = Math.floor(Date.now() / 1000);
    const hit = cache.get(cacheKey);
    if (hit && hit.expiresAt - now > REUSE_MARGIN_SECONDS) return hit.token;
    const expiresAt = now + TOKEN_TTL_SECONDS;
    const token = await new SignJWT({ viewer })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .sign(key);
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, { token, expiresAt });
    return token;
  };
}

/** Verifies internal tokens; verified tokens are remembered until they expire. */
export function createViewerVerifier(secret: string) {
  const key = keyOf(secret);
  const cache = new Map<string, { viewer: Viewer; expiresAt: number }>();
  return async function verify(token: string): Promise<Viewer> {
    const now = Math.floor(Date.now() / 1000);
    const hit = cache.get(token);
    if (hit && hit.expiresAt > now) return hit.viewer;
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    const viewer = parseViewer(payload['viewer']);
    if (cache.size > 10_000) cache.clear();
    cache.set(token, { viewer, expiresAt: payload.exp ?? now });
    return viewer;
  };
}

function parseViewer(raw: unknown): Viewer {
  if (!raw || typeof raw !== 'object') throw new Error('internal token carries no viewer');
  const v = raw as Partial<Viewer>;
  const kinds: ViewerKind[] = ['ANONYMOUS', 'MEMBER', 'STAFF', 'PARTNER', 'SERVICE'];
  if (!v.kind || !kinds.includes(v.kind)) throw new Error('internal token has an unknown viewer kind');
  return {
    kind: v.kind,
    subject: v.subject ?? null,
    programId: v.programId ?? null,
    memberId: v.memberId ?? null,
    partnerId: v.partnerId ?? null,
    roles: (v.roles ?? []).filter((r): r is StaffRole => STAFF_ROLES.includes(r)),
    scopes: v.scopes ?? [],
  };
}
