import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Three projects, split by where a test lives:
 *   unit         src/**\/*.test.ts   domain rules, no database (and scripts/**\/*.test.ts: the scripts' own)
 *   integration  subgraphs/*\/test   one subgraph against real PostgreSQL
 *   e2e          test/               every subgraph and the gateway, through the gateway
 * All share one PostgreSQL (embedded unless DATABASE_URL is set); each file gets its own database.
 */
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module). Node, and so @apollo/* loaded by Node, use the
    // CJS build; Vite would pick the ESM one for our sources. Two copies of graphql break
    // instanceof checks ("Cannot use GraphQLObjectType from another module"), so pin ours to CJS.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['packages/testing/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Vitest's default is one file at a time on two cores (cores - 1). Our files mostly wait (on
    // PostgreSQL, on event delivery between subgraphs), so three at once took the whole run on a
    // 2-core machine from about 15 minutes to 9½ with the CPU still not saturated.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    projects: [
      { extends: true, test: { name: 'unit', include: ['{subgraphs,packages,gateway}/**/src/**/*.test.ts', 'scripts/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['subgraphs/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'gateway/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'] } },
    ],
  },
});
