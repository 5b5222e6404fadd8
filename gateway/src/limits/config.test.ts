import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv } from '@loyalty-graph/shared';
import { limitsEnv, limitsFromEnv } from './config';
import { sha256Hex } from './trusted-documents';

const Env = z.object(limitsEnv);

describe('limits from the environment', () => {
  it('leaves every default in place when nothing is set', () => {
    expect(limitsFromEnv(parseEnv(Env, {}))).toEqual({ operation: {}, budgets: {}, trustedProxyHops: 0 });
  });

  it('reads budgets as capacity/restoreRate, the operation limits, Redis and proxies', () => {
    const options = limitsFromEnv(
      parseEnv(Env, { RATE_LIMIT_MEMBER: '500/2.5', RATE_LIMIT_ANONYMOUS: '100/10', LIMIT_MAX_COST: '800', LIMIT_MAX_BULK_COST: '4000', LIMIT_MAX_ALIASES: '5', RATE_LIMIT_REDIS_URL: 'redis://cache:6379', RATE_LIMIT_TRUSTED_PROXY_HOPS: '1' }),
    );
    expect(options).toEqual({
      operation: { maxCost: 800, maxBulkCost: 4000, maxAliases: 5 },
      budgets: { member: { capacity: 500, restoreRate: 2.5 }, anonymous: { capacity: 100, restoreRate: 10 } },
      trustedProxyHops: 1,
      redisUrl: 'redis://cache:6379',
    });
  });

  it('names every mistake', () => {
    let message = '';
    try {
      parseEnv(Env, { RATE_LIMIT_STAFF: '1000', LIMIT_MAX_COST: '0', RATE_LIMIT_REDIS_URL: 'http://cache' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('RATE_LIMIT_STAFF: must be capacity/restoreRate');
    expect(message).toContain('LIMIT_MAX_COST');
    expect(message).toContain('RATE_LIMIT_REDIS_URL: must be a redis://');
    expect(() => limitsFromEnv(parseEnv(Env, { TRUSTED_DOCUMENTS: 'enforce' }))).toThrow(/needs TRUSTED_DOCUMENTS_PATH/);
  });

  it('loads and checks the trusted-documents manifest at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    const path = join(dir, 'manifest.json');
    writeFileSync(path, JSON.stringify({ [sha256Hex('query Q { me { id } }')]: 'query Q { me { id } }' }));
    const options = limitsFromEnv(parseEnv(Env, { TRUSTED_DOCUMENTS_PATH: path, TRUSTED_DOCUMENTS: 'enforce' }));
    expect(options.trustedDocuments?.mode).toBe('enforce');
    expect([...options.trustedDocuments!.documents.values()]).toEqual(['query Q { me { id } }']);
    writeFileSync(path, JSON.stringify({ [sha256Hex('query Q { me { id } }')]: 'query Q { me { firstName } }' }));
    expect(() => limitsFromEnv(parseEnv(Env, { TRUSTED_DOCUMENTS_PATH: path }))).toThrow(/is not the sha256 of its document/);
  });
});
