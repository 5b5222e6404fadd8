import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type RunningPostgres } from '@loyalty-graph/testing/embedded-postgres';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves when the service's /ready answers 200; rejects if the process exits first. */
  ready(baseUrl: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for the exit (graceful shutdown). */
  stop(): Promise<void>;
}

/** Starts one service (`gateway/src/main.ts`, or a built `gateway/dist/main.mjs`) as its own process. */
export function spawnService(name: string, entry: string, env: Record<string, string>, options: { quiet?: boolean } = {}): ServiceProcess {
  // Built bundles (.mjs) run on plain node, as in production. Sources run with `node --import
  // tsx` rather than the tsx CLI, which would put a wrapper process in between (benchmarks read
  // the service's own memory from its pid).
  // BENCH_PROFILE=<service> writes a V8 CPU profile of that service to bench/results/ on exit.
  const profile = process.env['BENCH_PROFILE'] === name ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results')}`] : [];
  const args = entry.endsWith('.mjs') ? [...profile, join(ROOT, entry)] : [...profile, '--import', 'tsx', join(ROOT, entry)];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      if (options.quiet) return;
      for (const line of chunk.split('\n')) if (line) process.stderr.write(prefix + line + '\n');
    });
  }
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    name,
    child,
    async ready(baseUrl, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let done = false;
      void exited.then(() => (done = true));
      while (Date.now() < deadline) {
        if (done) throw new Error(`${name} exited before it was ready`);
        try {
          const response = await fetch(new URL('/ready', baseUrl));
          if (response.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(`${name} was not ready within ${timeoutMs} ms`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL kept in `.pgdata/`. */
export async function startDatabase(port = Number(process.env['EMBEDDED_PG_PORT'] ?? 54329)): Promise<{ url: string; embedded: RunningPostgres | null }> {
  const external = process.env['DATABASE_URL'];
  if (external) return { url: external, embedded: null };
  const dataDir = join(ROOT, '.pgdata');
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  process.stderr.write(`${fresh ? 'Creating' : 'Starting'} embedded PostgreSQL in .pgdata on port ${port}…\n`);
  const embedded = await startEmbeddedPostgres({ dataDir, port, persistent: true, durable: true });
  return { url: embedded.url, embedded };
}

/** Development credentials are generated at every start: nothing secret is ever committed. */
export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}
