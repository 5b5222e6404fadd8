import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl } from '@loyalty-graph/shared/db';
import type { Logger as TypeOrmLogger } from 'typeorm';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file, on the run's PostgreSQL server. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  return {
    url: databaseUrl(serverUrl, name),
    name,
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Counts the SQL statements a DataSource sends, so tests can prove batching ("200 entities, one
 * query") instead of trusting it.
 */
export class StatementCounter implements TypeOrmLogger {
  statements: string[] = [];

  reset(): void {
    this.statements = [];
  }

  /** Statements that read or write data (not BEGIN/COMMIT or the migrations bookkeeping). */
  dataStatements(): string[] {
    return this.statements.filter((sql) => /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(sql) && !/"migrations"|\bmigrations\b/.test(sql));
  }

  logQuery(query: string): void {
    this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
