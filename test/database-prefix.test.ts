import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { databaseUrl } from '@loyalty-graph/shared/db';
import { freePort } from '../packages/testing/src/global-setup';
import { generateSecret, spawnService, type ServiceProcess } from '../scripts/lib/services';

/**
 * DATABASE_PREFIX as an operator sets it: two deployments of the members subgraph (staging and
 * production, say) on one PostgreSQL server, each in its own process, keep their data apart.
 */
describe('DATABASE_PREFIX', () => {
  const serverUrl = inject('postgresUrl');
  const prefixes = [`a${randomBytes(4).toString('hex')}_`, `b${randomBytes(4).toString('hex')}_`];
  const running: ServiceProcess[] = [];

  const admin = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  afterAll(async () => {
    for (const service of running) await service.stop();
    await admin(databaseUrl(serverUrl, 'postgres'), async (client) => {
      for (const prefix of prefixes) await client.query(`DROP DATABASE IF EXISTS ${prefix}members WITH (FORCE)`);
    });
  });

  it('gives each deployment its own database, created and migrated at start', async () => {
    const secret = generateSecret();
    for (const prefix of prefixes) {
      const port = await freePort();
      const service = spawnService('members', 'subgraphs/members/src/main.ts', { DATABASE_URL: serverUrl, DATABASE_PREFIX: prefix, INTERNAL_TOKEN_SECRET: secret, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' }, { quiet: true });
      running.push(service);
      await service.ready(`http://127.0.0.1:${port}`);
    }
    const databases = await admin(databaseUrl(serverUrl, 'postgres'), async (client) =>
      (await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname = ANY($1) ORDER BY datname`, [prefixes.map((p) => `${p}members`)])).rows.map((r) => r.datname),
    );
    expect(databases).toEqual(prefixes.map((p) => `${p}members`).sort());
    // Each is migrated: a program written into one is not in the other.
    await admin(databaseUrl(serverUrl, `${prefixes[0]}members`), (client) => client.query(`INSERT INTO programs (name, type, points_currency_name, point_value_amount, point_value_currency, status) VALUES ('Staging', 'RECOGNITION', 'points', 1, 'EUR', 'ACTIVE')`));
    const counts = await Promise.all(prefixes.map((p) => admin(databaseUrl(serverUrl, `${p}members`), async (client) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM programs`)).rows[0]!.n))));
    expect(counts).toEqual([1, 0]);
  });

  it('refuses a prefix that is not a safe database-name start, naming it', async () => {
    const service = spawnService('members', 'subgraphs/members/src/main.ts', { DATABASE_URL: serverUrl, DATABASE_PREFIX: 'Staging-1;', INTERNAL_TOKEN_SECRET: generateSecret(), PORT: String(await freePort()), LOG_LEVEL: 'error' }, { quiet: true });
    let output = '';
    for (const stream of [service.child.stdout, service.child.stderr]) stream?.on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain('DATABASE_PREFIX');
  });
});
