import type { EventEmitter } from 'node:events';
import pg from 'pg';
import { DataSource, type Logger as TypeOrmLogger, type MixedList, type EntitySchema } from 'typeorm';

// Entities use TypeORM decorators with every column's type named explicitly: esbuild (tsx, vitest)
// emits no decorator metadata, so nothing may rely on reflected types.
// pg returns int8 and numeric as strings; we keep it that way (exact money, 64-bit aggregates)
// and convert deliberately where a number is safe.

export interface DatabaseOptions {
  /** postgres://… URL of this subgraph's own database. */
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Distinct per service so `pg_stat_activity` tells who holds a connection. */
  applicationName: string;
  poolSize?: number;
  logger?: TypeOrmLogger;
}

/** How long one statement of a request, a consumer or a job may run. */
export const STATEMENT_TIMEOUT_MS = 30_000;

/** A DataSource for one subgraph: schema changes only through migrations, never `synchronize`. */
export function createDataSource(options: DatabaseOptions, statementTimeoutMs = STATEMENT_TIMEOUT_MS): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    ...(options.logger ? { logger: options.logger, logging: true } : { logging: false }),
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName,
      // A hung query must not hold a request forever (0: no limit, for migrations).
      statement_timeout: statementTimeoutMs,
    },
  });
}

/**
 * A connection whose backend is killed (a failover, an operator's pg_terminate_backend) can emit
 * 'error' twice: TypeORM's query runner handles the first by releasing the broken connection and
 * removes its listener, and a second one with no listener would crash the process. Every pooled
 * connection gets a listener of its own that only swallows what TypeORM already dealt with.
 */
function guardPooledConnections(db: DataSource): void {
  const pool = (db.driver as unknown as { master?: EventEmitter & { _clients?: EventEmitter[] } }).master;
  const guard = (client: EventEmitter) => client.on('error', () => undefined);
  pool?.on('connect', guard);
  pool?._clients?.forEach(guard);
}

/** Connects and brings the schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  await migrate(options);
  const db = createDataSource(options);
  await db.initialize();
  guardPooledConnections(db);
  return db;
}

/**
 * Runs the pending migrations on a connection of their own without the statement timeout: a
 * migration that backfills a table (analytics' rollups over every fact) runs for as long as the
 * history is big, minutes at 10,000,000 facts, and cut at 30 s it would stop the service from starting.
 */
async function migrate(options: DatabaseOptions): Promise<void> {
  const migrator = createDataSource({ ...options, poolSize: 1, logger: undefined }, 0);
  await migrator.initialize();
  try {
    await migrator.runMigrations({ transaction: 'each' });
  } finally {
    await migrator.destroy();
  }
}

/** The URL of another database on the same server. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates the database if it does not exist. Subgraphs own one database each, so a fresh server
 * needs them created before migrations run.
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`unsafe database name: ${database}`);
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        // Two services creating the same database at once: the loser's error is harmless.
        if ((error as { code?: string }).code !== '42P04' && (error as { code?: string }).code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Readiness: the database answers. */
export async function pingDatabase(db: DataSource): Promise<void> {
  await db.query('SELECT 1');
}

/**
 * A lost connection (the server restarted, a backend was killed, the network blinked): the work
 * did not happen or its outcome is unknown, and it is not the work's fault.
 */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
  if (code === '57P01' || code === '57P02' || code === '57P03' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED') return true;
  const message = error instanceof Error ? error.message : '';
  // TypeORM 1 says "Database connection provided by a query runner was already released"
  // (QueryRunnerProviderAlreadyReleasedError) when the pool dropped the connection under it.
  return /Connection terminated|Query runner already released|query runner was already released|server closed the connection|Client has encountered a connection error|Connection is not established/i.test(
    message,
  );
}

/** True when a statement failed on a unique constraint (optionally a specific one). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError ?? (error as { code?: string; constraint?: string });
  return driverError?.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}

/**
 * Rows of an UPDATE/DELETE … RETURNING. TypeORM's postgres driver answers those with
 * `[rows, rowCount]` (but plain rows for SELECT and INSERT), so normalise here, once.
 */
export async function returning<T>(q: { query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string, params: unknown[]): Promise<T[]> {
  const result = await q.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
