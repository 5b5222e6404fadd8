import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, spawnService, type ServiceProcess } from '../scripts/lib/services';

/**
 * CORS_ORIGINS as an operator sets it: the gateway's own process, in production mode on the
 * committed supergraph (it starts without its subgraphs), asked the preflights a browser sends.
 */

const GATEWAY = 'gateway/src/main.ts';

function productionEnv(extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SUPERGRAPH_PATH: join(ROOT, 'supergraph.graphql'),
    INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
    // Fetched on the first token only: these tests send preflights, never a token.
    JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    JWT_ISSUER: 'https://idp.example.com/',
    JWT_AUDIENCE: 'loyalty-graph',
    LOG_LEVEL: 'error',
    ...extra,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function preflight(baseUrl: string, origin: string): Promise<Response> {
  return fetch(new URL('/graphql', baseUrl), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
}

describe('CORS_ORIGINS at the gateway', () => {
  let gateway: ServiceProcess | undefined;
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
  });

  async function start(extra: Record<string, string>): Promise<string> {
    const port = await freePort();
    gateway = spawnService('gateway', GATEWAY, productionEnv({ PORT: String(port), ...extra }), { quiet: true });
    const baseUrl = `http://127.0.0.1:${port}`;
    await gateway.ready(baseUrl);
    return baseUrl;
  }

  it('allows no browser origin in production unless listed, not even localhost or Apollo Sandbox', async () => {
    const baseUrl = await start({});
    for (const origin of ['http://localhost:5173', 'https://studio.apollographql.com']) {
      const response = await preflight(baseUrl, origin);
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('allows exactly the listed origins', async () => {
    const baseUrl = await start({ CORS_ORIGINS: 'https://app.example.com,https://admin.example.com' });
    for (const origin of ['https://app.example.com', 'https://admin.example.com']) {
      const response = await preflight(baseUrl, origin);
      expect(response.status, origin).toBe(204);
      expect(response.headers.get('access-control-allow-origin'), origin).toBe(origin);
    }
    expect((await preflight(baseUrl, 'https://evil.example.com')).status).toBe(403);
  });

  it('refuses to start on an entry that is not an exact origin, naming it', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, GATEWAY)], {
      cwd: ROOT,
      env: { ...process.env, ...productionEnv({ PORT: '0', CORS_ORIGINS: 'https://app.example.com/,*' }) },
      timeout: 30_000,
    });
    const failure = (await run.then(
      () => null,
      (error: unknown) => error,
    )) as { code?: number; stderr?: string } | null;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('"https://app.example.com/" is not an exact origin');
    expect(failure?.stderr).toContain('"*" is not allowed');
  });
});
