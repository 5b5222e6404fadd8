import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * Partner API keys: `lgp_` + an 8-character public id + `_` + 32 random bytes, all base62, e.g.
 * `lgp_Ab3dE9xZ_…` (56 characters).
 * - The fixed prefix lets secret scanners (GitHub's, gitleaks, trufflehog) recognise a leaked key
 *   by pattern, with no false positives from other tokens.
 * - The public id (prefix + id, `lgp_Ab3dE9xZ…`) is the display part: lists show it so people can
 *   tell keys apart; it grants nothing.
 * - Only the SHA-256 of the whole key is stored. A slow password hash (bcrypt, argon2) exists to
 *   make guessing low-entropy passwords expensive; a key with 256 random bits cannot be guessed
 *   from its hash at any speed, and the gateway resolves keys on the request path, where a slow
 *   hash would cost every request.
 */
export const KEY_PREFIX = 'lgp_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PUBLIC_ID_LENGTH = 8;
/** 62^43 > 2^256: 32 bytes always fit in 43 base62 digits (padded with leading zeros). */
const SECRET_LENGTH = 43;
const KEY_FORMAT = /^lgp_([0-9A-Za-z]{8})_[0-9A-Za-z]{43}$/;

export interface NewApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  display: string;
  hash: string;
}

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out.padStart(length, '0');
}

export function generateApiKey(): NewApiKey {
  const publicId = Array.from({ length: PUBLIC_ID_LENGTH }, () => BASE62[randomInt(62)]).join('');
  const key = `${KEY_PREFIX}${publicId}_${base62(randomBytes(32), SECRET_LENGTH)}`;
  return { key, display: displayOf(publicId), hash: hashApiKey(key) };
}

/** The public id of a well-formed key; null for anything else (refused without a database query). */
export function parseApiKey(key: string): { publicId: string } | null {
  const match = KEY_FORMAT.exec(key);
  return match ? { publicId: match[1]! } : null;
}

export function displayOf(publicId: string): string {
  return `${KEY_PREFIX}${publicId}…`;
}

/** Hex SHA-256 of the whole key: what is stored and looked up. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A key found by its hash, with its client and partner: what decides whether it is accepted. */
export interface KeyCandidate {
  clientId: string;
  partnerId: string;
  programId: string;
  scopes: string[];
  keyExpiresAt: Date | null;
  keyRevokedAt: Date | null;
  clientExpiresAt: Date | null;
  clientRevokedAt: Date | null;
  rateLimitPerMinute: number | null;
  partnerStatus: string;
}

export interface ApiKeyGrantValue {
  clientId: string;
  partnerId: string;
  programId: string;
  scopes: string[];
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
}

/**
 * Whether a key works now: not revoked (itself or its client), not past its rotation overlap or
 * its client's expiry, and its partner ACTIVE. It expires with the earlier of the two dates.
 */
export function keyGrant(candidate: KeyCandidate, now: Date): ApiKeyGrantValue | null {
  if (candidate.keyRevokedAt || candidate.clientRevokedAt) return null;
  if (candidate.partnerStatus !== 'ACTIVE') return null;
  const ends = [candidate.keyExpiresAt, candidate.clientExpiresAt].filter((d): d is Date => d !== null);
  const expiresAt = ends.length ? new Date(Math.min(...ends.map((d) => d.getTime()))) : null;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) return null;
  const { clientId, partnerId, programId, scopes, rateLimitPerMinute } = candidate;
  return { clientId, partnerId, programId, scopes, expiresAt, rateLimitPerMinute };
}

/** lastUsedAt is written at most this often per client: a read path must not write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export function lastUsedIsStale(lastUsedAt: Date | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS;
}
