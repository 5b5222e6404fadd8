import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * CORS for the browser-facing server (the gateway): which other origins' pages may call it and
 * read the answer. Subgraphs leave it off; they are never called from a browser.
 *
 * Decisions, and why:
 * - An allowlist of exact origins, never `*` or patterns: a typo in a pattern lets in an origin
 *   nobody meant to allow, while an exact origin is what the browser sends and what an operator
 *   can read.
 * - An origin not on the list gets no CORS headers at all, so the browser keeps the answer from
 *   the page (its `fetch` rejects). Its preflight is answered 403: the Fetch standard fails a
 *   preflight on a non-2xx status or a missing `Access-Control-Allow-Origin` alike, and 403
 *   says plainly in the browser's network panel and in access logs that the origin is refused.
 *   A simple request (one the browser sends without a preflight) still reaches the server, as
 *   CORS cannot stop it; Apollo's CSRF prevention refuses it unless it carries a JSON
 *   content-type or an `apollo-require-preflight` header, which only a preflighted request can.
 * - For an allowed origin the preflight states every method and header we accept, and the
 *   browser compares (header names, safelisted values); re-implementing that comparison here
 *   could only refuse requests the standard allows.
 * - No `Access-Control-Allow-Credentials`: callers authenticate with a bearer token the page
 *   sets in `Authorization`, which the browser sends cross-origin without it. Without the
 *   header a page asking for `credentials: 'include'` is refused, so cookies or HTTP auth can
 *   never become an ambient credential another site's page rides on.
 * - `Vary: Origin` on every response, so a shared cache never serves one origin's answer (with
 *   or without `Access-Control-Allow-Origin`) to another.
 * - Removing an origin takes effect at once: a cached preflight only spares the OPTIONS round
 *   trip, every actual response is checked again.
 */
export interface CorsConfig {
  /** Exact origins (`https://app.example.com`, `http://localhost:5173`) allowed to call. */
  origins: readonly string[];
  /** Development: also any http(s) origin on localhost, 127.0.0.1 or [::1], on any port. */
  allowLoopback?: boolean;
  /** Response headers a page may read besides the safelisted ones; defaults to CORS_EXPOSED_HEADERS. */
  exposeHeaders?: readonly string[];
}

/** What a preflighted request may use: GraphQL over HTTP is POST, and GET for queries. */
export const CORS_ALLOWED_METHODS = ['GET', 'POST'] as const;

/**
 * Request headers a page may send: the token, the JSON content-type, the headers Apollo's CSRF
 * prevention accepts as proof of a preflight, the request id for support, and the client
 * identification Apollo Client sends.
 */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-request-id',
  'apollographql-client-name',
  'apollographql-client-version',
] as const;

/**
 * Response headers a page may read: the request id (to quote in a support request), and what a
 * client needs to back off when limited: Retry-After and the IETF RateLimit headers (the draft's
 * current `RateLimit`/`RateLimit-Policy` and the earlier `RateLimit-Limit/-Remaining/-Reset`).
 */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
] as const;

/** Chromium caps a cached preflight at two hours (Firefox at 24); more would only be ignored. */
export const CORS_MAX_AGE_SECONDS = 7200;

/** Apollo Sandbox on Apollo's site, allowed by default in development. */
export const APOLLO_SANDBOX_ORIGIN = 'https://studio.apollographql.com';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether `origin` (the request's Origin header) may call. */
export function isOriginAllowed(config: CorsConfig, origin: string): boolean {
  if (config.origins.includes(origin)) return true;
  if (!config.allowLoopback) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // An Origin header is exactly scheme://host[:port]; anything else (paths, credentials) is not one.
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname) && url.origin === origin;
}

/**
 * Adds the CORS headers to a response, and answers preflights. Returns true when the request
 * was answered here (a preflight) and must not go further.
 */
export function handleCors(config: CorsConfig, req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined) return false; // same-origin GET or not a browser: CORS does not apply
  const allowed = isOriginAllowed(config, origin);
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    if (!allowed) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'origin not allowed' }));
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': CORS_ALLOWED_METHODS.join(', '),
      'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
      'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      'content-length': '0',
    });
    res.end();
    return true;
  }
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', (config.exposeHeaders ?? CORS_EXPOSED_HEADERS).join(', '));
  }
  return false;
}

/**
 * Parses `CORS_ORIGINS`: comma-separated exact origins. Unset: in development localhost on any
 * port and Apollo Sandbox, in production none (server-to-server callers need no CORS). Set, it
 * is the whole list in every mode; set empty, no origin is allowed.
 */
export function corsOriginsField() {
  return z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      for (const entry of splitOrigins(value ?? '')) {
        const problem = originProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: `"${entry}" ${problem}` });
      }
    });
}

/** The CORS configuration for a `CORS_ORIGINS` value already checked by corsOriginsField. */
export function corsConfigFromEnv(value: string | undefined, production: boolean): CorsConfig {
  if (value !== undefined) return { origins: splitOrigins(value) };
  return production ? { origins: [] } : { origins: [APOLLO_SANDBOX_ORIGIN], allowLoopback: true };
}

function splitOrigins(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function originProblem(entry: string): string | null {
  if (entry === '*') return 'is not allowed: list each origin (a wildcard would let every site read the answers)';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not an origin (expected scheme://host[:port], e.g. https://app.example.com)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  // The browser sends the origin serialised: lower-case host, no default port, no path or slash.
  if (url.origin !== entry) return `is not an exact origin (the browser would send "${url.origin}")`;
  return null;
}
