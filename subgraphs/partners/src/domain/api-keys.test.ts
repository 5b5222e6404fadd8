import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, keyGrant, lastUsedIsStale, parseApiKey, type KeyCandidate } from './api-keys';

describe('generateApiKey', () => {
  it('makes lgp_ + 8 base62 + _ + 43 base62, a display part of prefix and public id, and the SHA-256 of the whole key', () => {
    const { key, display, hash } = generateApiKey();
    expect(key).toMatch(/^lgp_[0-9A-Za-z]{8}_[0-9A-Za-z]{43}$/);
    expect(display).toBe(`${key.slice(0, 12)}…`);
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(parseApiKey(key)).toEqual({ publicId: key.slice(4, 12) });
  });

  it('never repeats a key or a public id over many draws', () => {
    const keys = Array.from({ length: 2_000 }, () => generateApiKey().key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(keys.map((k) => k.slice(4, 12))).size).toBe(keys.length);
  });
});

describe('parseApiKey', () => {
  it('refuses anything not exactly in the format', () => {
    const good = generateApiKey().key;
    for (const bad of ['', 'lgp_', good.slice(0, -1), `${good}x`, good.replace('lgp_', 'lgx_'), good.replace(/_/g, '-'), `${good.slice(0, -1)}!`, ` ${good}`, `Bearer ${good}`]) {
      expect(parseApiKey(bad), bad).toBeNull();
    }
  });

  it('hashes deterministically, different keys differently', () => {
    const a = generateApiKey().key;
    expect(hashApiKey(a)).toBe(hashApiKey(a));
    expect(hashApiKey(a)).not.toBe(hashApiKey(generateApiKey().key));
  });
});

describe('keyGrant', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
  const candidate: KeyCandidate = {
    clientId: 'c1',
    partnerId: 'pa1',
    programId: 'p1',
    scopes: ['purchases:write'],
    keyExpiresAt: null,
    keyRevokedAt: null,
    clientExpiresAt: null,
    clientRevokedAt: null,
    rateLimitPerMinute: 600,
    partnerStatus: 'ACTIVE',
  };

  it('grants a live key of an ACTIVE partner, expiring with the earlier of the key’s and the client’s dates', () => {
    expect(keyGrant(candidate, now)).toEqual({ clientId: 'c1', partnerId: 'pa1', programId: 'p1', scopes: ['purchases:write'], expiresAt: null, rateLimitPerMinute: 600 });
    expect(keyGrant({ ...candidate, keyExpiresAt: at(5), clientExpiresAt: at(60) }, now)?.expiresAt).toEqual(at(5));
    expect(keyGrant({ ...candidate, keyExpiresAt: at(60), clientExpiresAt: at(5) }, now)?.expiresAt).toEqual(at(5));
  });

  it('refuses a revoked key or client, one at or past its expiry, and a partner not ACTIVE', () => {
    for (const refused of [
      { keyRevokedAt: at(-1) },
      { clientRevokedAt: at(-1) },
      { keyExpiresAt: now },
      { clientExpiresAt: at(-1) },
      { partnerStatus: 'SUSPENDED' },
      { partnerStatus: 'ENDED' },
    ]) {
      expect(keyGrant({ ...candidate, ...refused }, now), JSON.stringify(refused)).toBeNull();
    }
  });

  it('records use at most once a minute', () => {
    expect(lastUsedIsStale(null, now)).toBe(true);
    expect(lastUsedIsStale(new Date(now.getTime() - 59_999), now)).toBe(false);
    expect(lastUsedIsStale(new Date(now.getTime() - 60_000), now)).toBe(true);
  });
});
