import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../packages/testing/src/global-setup';
import { ROOT } from '../scripts/lib/services';
import type { ExtraTargets, GatewayTarget } from './gateway';
import { BENCH_GATEWAY_BUDGETS } from './lib';

/**
 * Hive Gateway on the same supergraph and subgraphs, run as operators run it (docs/deployment.md):
 * the `hive-gateway` CLI with our config (gateway/hive/gateway.config.ts: our authentication, the
 * signed viewer), once with its JavaScript query planner and once with the Rust one
 * (`--hive-router-runtime`). Never `--jit`: with the Rust planner Hive Gateway 2.15 then answers
 * null without calling the subgraphs (the benchmark checks every answer for real data anyway).
 */
export const hiveTargets: ExtraTargets = async (stack) => {
  const targets: GatewayTarget[] = [];
  for (const [name, flags] of [
    ['Hive Gateway (JS planner)', []],
    ['Hive Gateway (Rust planner)', ['--hive-router-runtime']],
  ] as const) {
    const port = await freePort();
    const child = spawn(join(ROOT, 'node_modules/.bin/hive-gateway'), ['supergraph', stack.supergraphPath, '-c', 'gateway/hive/gateway.config.ts', '-p', String(port), '-h', '127.0.0.1', ...flags], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        INTERNAL_TOKEN_SECRET: stack.internalSecret,
        JWKS_URL: stack.identityProvider.jwksUrl,
        JWT_ISSUER: stack.identityProvider.issuer,
        JWT_AUDIENCE: stack.identityProvider.audience,
        LOG_LEVEL: 'warn',
        // Our limits run in Hive too (the plugin): as wide as our gateway's in the benchmarks.
        ...BENCH_GATEWAY_BUDGETS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
      if (await fetch(`${base}/readiness`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`${name} did not become ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    targets.push({
      name,
      url: `${base}/graphql`,
      // The CLI is a wrapper that may fork: charge the process that listens (its own pid when it does not).
      pid: child.pid!,
      headers: async (caller) => ({ authorization: `Bearer ${caller.jwt}` }),
      serves: () => true,
      async stop() {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
      },
    });
  }
  return targets;
};
