import { createHash } from 'node:crypto';
import { createViewerSigner, peerUnavailable, serviceViewer, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import type { BudgetPolicy } from './limits/weights';

/**
 * Partner API keys at the edge. A partner's integration presents a key the partners subgraph
 * issued (`lgp_` + an 8-character display part + `_` + the secret); the gateway asks the partners
 * subgraph what the key grants (`apiKeyGrant`, as a SERVICE, directly: never through itself),
 * remembers the answer for at most 5 seconds, and forwards a PARTNER viewer.
 *
 * Why a 5-second cache rather than pushing revocations to the replicas: a pull with a short
 * lifetime needs nothing to be delivered for a revocation to apply. Every replica, including one
 * started a moment ago or one that missed a message while restarting, stops honouring a revoked
 * key within 5 seconds of the partners subgraph knowing it, with no channel between replicas to
 * run and monitor. It costs one lookup per key per replica every 5 seconds, which is nothing next
 * to the requests a busy key sends; an idle key costs nothing.
 */

/** `lgp_` (loyalty graph partner: scanners such as GitHub's find leaked keys by it), 8 display characters, the secret. */
export const PARTNER_KEY_PATTERN = /^lgp_[0-9A-Za-z]{8}_[0-9A-Za-z]{20,64}$/;
/** The prefix alone: how a bearer credential is told from a JWT (JWTs start with `eyJ`). */
export const PARTNER_KEY_PREFIX = 'lgp_';

/** What the partners subgraph says a key grants (its `ApiKeyGrant`). */
export interface PartnerGrant {
  clientId: string;
  partnerId: string;
  programId: string;
  scopes: string[];
  /** ISO-8601; null: the key does not expire. */
  expiresAt: string | null;
  /** The client's budget in cost points per minute; null: the gateway's partner default. */
  rateLimitPerMinute: number | null;
}

/**
 * Key → grant, or null when the key is unknown, revoked, expired or its partner is not active.
 * Throws SUBGRAPH_UNAVAILABLE (HTTP 503) when it cannot tell. The seam: the gateway calls this,
 * and nothing else about partners.
 */
export type ResolvePartnerKey = (key: string) => Promise<PartnerGrant | null>;

const GRANT_QUERY = `query ApiKeyGrant($key: String!) {
  apiKeyGrant(key: $key) { clientId partnerId programId scopes expiresAt rateLimitPerMinute }
}`;

export interface PartnerKeyResolverOptions {
  /** The partners subgraph's GraphQL endpoint; a function so it may be found after start. */
  url: string | (() => string);
  /** INTERNAL_TOKEN_SECRET: the lookup is signed as the SERVICE viewer `gateway`. */
  internalSecret: string;
  /** How long the partners subgraph may take (default 2 s): a hung lookup must not hold requests. */
  timeoutMs?: number;
}

/** The default resolver: `apiKeyGrant` on the partners subgraph, as members-client.ts asks members. */
export function createPartnerKeyResolver(options: PartnerKeyResolverOptions): ResolvePartnerKey {
  const sign = createViewerSigner(options.internalSecret);
  const url = typeof options.url === 'string' ? () => options.url as string : options.url;
  const timeoutMs = options.timeoutMs ?? 2_000;
  return async (key) => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [VIEWER_HEADER]: await sign(serviceViewer('gateway')) },
      body: JSON.stringify({ query: GRANT_QUERY, variables: { key } }),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => {
      // Down, unreachable or too slow: the caller may retry; nothing ran.
      throw peerUnavailable('partners', 503);
    });
    let body: { data?: { apiKeyGrant: PartnerGrant | null } | null; errors?: unknown[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw peerUnavailable('partners', 503);
    }
    // Any answer without a grant or a clear "no such key" (a 5xx, errors, a schema mismatch) is
    // "cannot tell": never a 500 for the caller, and never a guess either way.
    if (!response.ok || !body.data || body.errors?.length) throw peerUnavailable('partners', 503);
    return body.data.apiKeyGrant ?? null;
  };
}

export interface GrantCacheOptions {
  /** At most this long (default and maximum 5 s: revocation must apply within 5 s). */
  ttlMs?: number;
  /** Keys remembered at most (default 10,000); the least recently used goes first. */
  maxEntries?: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/**
 * Remembers what `resolve` answered, grants and misses alike (a client retrying a revoked key
 * must not turn into a lookup per request), for at most `ttlMs`, and never past the grant's own
 * expiry. Failures are not remembered: the next request asks again. Keys are remembered by their
 * SHA-256, so the cache holds no usable key; concurrent lookups of one key share one call.
 */
export function cachePartnerGrants(resolve: ResolvePartnerKey, options: GrantCacheOptions = {}): ResolvePartnerKey {
  const ttlMs = Math.min(options.ttlMs ?? 5_000, 5_000);
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on every hit makes the first entry the least recently used.
  const entries = new Map<string, { grant: PartnerGrant | null; until: number }>();
  const inFlight = new Map<string, Promise<PartnerGrant | null>>();

  return async (key) => {
    const id = createHash('sha256').update(key).digest('base64url');
    const started = now();
    const hit = entries.get(id);
    if (hit && hit.until > started) {
      entries.delete(id);
      entries.set(id, hit);
      return hit.grant;
    }
    if (hit) entries.delete(id);
    let pending = inFlight.get(id);
    if (!pending) {
      pending = resolve(key).finally(() => inFlight.delete(id));
      inFlight.set(id, pending);
    }
    const resolved = await pending;
    // The entry's time starts before the lookup: it never outlives what was true when it began.
    const expires = resolved?.expiresAt ? Date.parse(resolved.expiresAt) : Infinity;
    const grant = expires <= started ? null : resolved;
    entries.set(id, { grant, until: Math.min(started + ttlMs, expires) });
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return grant;
  };
}

/** The viewer the subgraphs see for a grant: the API client is the subject. */
export function partnerViewer(grant: PartnerGrant): Viewer {
  return { kind: 'PARTNER', subject: grant.clientId, programId: grant.programId, partnerId: grant.partnerId, memberId: null, roles: [], scopes: [...grant.scopes] };
}

/** The client's own budget: `rateLimitPerMinute` cost points, refilled evenly over the minute. */
export function partnerBudget(grant: PartnerGrant): BudgetPolicy | undefined {
  const perMinute = grant.rateLimitPerMinute;
  if (perMinute === null || perMinute === undefined || !(perMinute > 0)) return undefined;
  return { capacity: perMinute, restoreRate: perMinute / 60 };
}
