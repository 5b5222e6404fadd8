import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { InputError } from '@loyalty-graph/shared';

/**
 * Webhooks as the Standard Webhooks convention has them (standardwebhooks.com): a message id
 * (`webhook-id`), the attempt's unix time (`webhook-timestamp`) and `v1,<base64 HMAC-SHA256>` over
 * `id.timestamp.body` (`webhook-signature`, two space-separated during a secret rotation's overlap).
 * Nothing here reads the database, the network or the environment.
 */

/** The event types a partner can subscribe to: GraphQL enum name ↔ the `type` in the body. */
export const WEBHOOK_EVENT_TYPES = {
  PURCHASE_RECORDED: 'purchase.recorded',
  POINTS_REDEEMED: 'points.redeemed',
  MEMBER_ENROLLED: 'member.enrolled',
  MEMBER_TIER_CHANGED: 'member.tier_changed',
  STATEMENT_CLOSED: 'statement.closed',
} as const;
export type WebhookEventTypeName = keyof typeof WEBHOOK_EVENT_TYPES;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[WebhookEventTypeName];

export const webhookTypeName = (type: string): WebhookEventTypeName | null =>
  (Object.entries(WEBHOOK_EVENT_TYPES).find(([, value]) => value === type)?.[0] as WebhookEventTypeName | undefined) ?? null;

export const WEBHOOK_LIMITS = {
  /** Endpoints per partner: one per system that listens, not one per event type. */
  endpointsPerPartner: 10,
  urlLength: 2_000,
  descriptionLength: 200,
  /** A week, like API keys: long enough to roll the new secret out to every receiver. */
  overlapMinutes: 10_080,
  /** What an attempt keeps of the receiver's answer (characters). */
  responseSnippet: 500,
} as const;

/**
 * Waits before each retry: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 14 h,
 * 14 h — 11 tries over about 2.9 days (69.6 h), the "about three days" of the issue. Each delay
 * gets ±10 % jitter so an endpoint that comes back is not hit by every message at the same second.
 */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 50_400_000, 50_400_000, 50_400_000] as const;
export const MAX_TRIES = RETRY_DELAYS_MS.length + 1;
const JITTER = 0.1;

/** After `tries` failed tries, how long to wait for the next; null: that was the last (dead letter). */
export function retryDelayMs(tries: number, random: () => number = Math.random): number | null {
  const base = RETRY_DELAYS_MS[tries - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * An endpoint whose every attempt has failed for this long is disabled (the rule Svix uses): a
 * receiver down for days is not coming back by itself, and retrying into it only grows the queue.
 * One success resets the clock. Re-enabling is explicit (updateWebhookEndpoint).
 */
export const DISABLE_AFTER_MS = 5 * 86_400_000;

export function shouldDisable(failingSince: Date | null, now: Date): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS;
}

/** `whsec_` + base64 of 32 random bytes (the convention allows 24 to 64). */
export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The key bytes of a `whsec_…` secret (what the HMAC is keyed with). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24 || key.length > 64) throw new Error('a webhook secret holds 24 to 64 bytes');
  return key;
}

/** `v1,<base64>` for each secret, space-separated: the current one first, then one in its overlap. */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`).join(' ');
}

/**
 * A message's id: derived from the endpoint and the event, so the same event to the same endpoint
 * is always the same `webhook-id`, however often it is delivered or replayed (receivers dedupe on it).
 */
export function messageId(endpointId: string, eventId: string): string {
  return `msg_${createHash('sha256').update(`${endpointId}:${eventId}`).digest('hex').slice(0, 32)}`;
}

/** The body: `{type, timestamp, data}`; stored as sent, so every attempt signs the same bytes. */
export function messageBody(type: WebhookEventType, occurredAt: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: occurredAt, data });
}

/** What an attempt keeps of a response body: enough to see an error page's point, never a whole page. */
export function responseSnippet(text: string): string {
  return text.length > WEBHOOK_LIMITS.responseSnippet ? `${text.slice(0, WEBHOOK_LIMITS.responseSnippet)}…` : text;
}

/**
 * Checks an endpoint URL: https, or http to localhost / 127.0.0.1 (a developer's receiver) or
 * outside production. In production a host that is a private, loopback or link-local address (or
 * `localhost`) is refused: a webhook is a request our servers make to an address a partner chose,
 * and it must not reach our own network (SSRF). Names that resolve to such addresses are refused
 * at delivery time too (see `isPublicAddress`), since DNS can change after this check.
 */
export function checkEndpointUrl(raw: string, field: string, production: boolean): string {
  const value = raw.trim();
  if (value.length > WEBHOOK_LIMITS.urlLength) throw new InputError(`url must be at most ${WEBHOOK_LIMITS.urlLength.toLocaleString('en-US')} characters`, field);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError('url must be an absolute http(s) URL', field);
  }
  if (url.username || url.password) throw new InputError('url must not carry credentials', field);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || host === '127.0.0.1' || host === '::1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (local || !production))) {
    throw new InputError('url must be https (http only for localhost, or outside production)', field);
  }
  if (production && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) && !isPublicAddress(host)))) {
    throw new InputError('url must not point at a private, loopback or link-local address', field);
  }
  return url.toString();
}

/** Whether an IP address is on the public internet (not private, loopback, link-local, CGNAT, multicast or reserved). */
export function isPublicAddress(address: string): boolean {
  const mapped = address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  const ip = mapped ? mapped[1]! : address;
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (isIP(ip) === 6) {
    const lower = ip.toLowerCase();
    return !(lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff'));
  }
  return false;
}
