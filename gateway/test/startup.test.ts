import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sendOperation } from '@loyalty-graph/testing';
import { startTestIdentityProvider, type TestIdentityProvider } from '@loyalty-graph/testing/jwks';
import { ROOT, spawnService, type ServiceProcess } from '../../scripts/lib/services';

/**
 * The gateway's start as an operator runs it (`node --import tsx gateway/src/main.ts`, the same
 * code as the bundle): production refuses to start on defaults, and starts on an identity
 * provider's JWKS with its issuer, audience and claim layout (docs/identity.md).
 */

const INTERNAL_TOKEN_SECRET = randomBytes(32).toString('hex');

/** Runs the gateway with exactly this environment and waits for it to exit (it must, within 20 s). */
function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the gateway did not exit; it said: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const production = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET, SUPERGRAPH_PATH: 'supergraph.graphql' };

describe('in production the gateway refuses to start', () => {
  it('without an explicit issuer, audience and key set, naming each', async () => {
    const { code, stderr } = await runUntilExit(production);
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid environment');
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL']) expect(stderr).toMatch(new RegExp(`${name}: required in production`));
  });

  it('with a development secret instead of the identity provider’s key set', async () => {
    const { code, stderr } = await runUntilExit({ ...production, JWT_ISSUER: 'https://idp.example.com/', JWT_AUDIENCE: 'api', JWT_SECRET: randomBytes(32).toString('hex') });
    expect(code).toBe(1);
    expect(stderr).toMatch(/JWKS_URL: required in production/);
    expect(stderr).toMatch(/JWT_SECRET: development only/);
  });
});

describe('in production, configured for an identity provider (Keycloak’s claim layout)', () => {
  let idp: TestIdentityProvider;
  let gateway: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    gateway = spawnService(
      'gateway',
      'gateway/src/main.ts',
      {
        ...production,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        JWKS_URL: idp.jwksUrl,
        JWT_ISSUER: idp.issuer,
        JWT_AUDIENCE: idp.audience,
        JWT_CLAIM_KIND: 'loyalty.kind',
        JWT_CLAIM_PROGRAM_ID: 'loyalty.program_id',
        JWT_CLAIM_ROLES: 'realm_access.roles',
      },
      { quiet: true },
    );
    await gateway.ready(url);
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await idp?.stop();
  });

  const ask = (token: string) => sendOperation(url, '{ __typename }', {}, { authorization: `Bearer ${token}` });

  it('accepts the provider’s tokens with our claims where the configuration says', async () => {
    const member = await idp.sign('f:1234:ann', { loyalty: { kind: 'member', program_id: '7d0c5a4e-8b5e-4f69-9d0e-2a3f6c1b9e01' } });
    expect(await ask(member)).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    const agent = await idp.sign('f:1234:bob', {
      loyalty: { kind: 'staff', program_id: '7d0c5a4e-8b5e-4f69-9d0e-2a3f6c1b9e01' },
      realm_access: { roles: ['offline_access', 'uma_authorization', 'agent'] },
    });
    expect(await ask(agent)).toMatchObject({ status: 200, data: { __typename: 'Query' } });
  });

  it('refuses tokens for another audience or from another issuer, and claims where the configuration does not look', async () => {
    const claims = { loyalty: { kind: 'member', program_id: '7d0c5a4e-8b5e-4f69-9d0e-2a3f6c1b9e01' } };
    for (const token of [await idp.sign('ann', claims, { audience: 'another-app' }), await idp.sign('ann', claims, { issuer: 'https://elsewhere.example.com/' })]) {
      const response = await ask(token);
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    }
    const flat = await ask(await idp.sign('ann', { kind: 'member', programId: '7d0c5a4e-8b5e-4f69-9d0e-2a3f6c1b9e01' }));
    expect(flat.status).toBe(401);
    expect(flat.errors?.[0]?.message).toMatch(/loyalty\.kind/);
  });
});
