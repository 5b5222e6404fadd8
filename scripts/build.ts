/**
 * `pnpm build`: bundles each service (gateway, every subgraph) into `<service>/dist/main.mjs`,
 * what production runs with plain `node`. Our workspace packages are compiled in; npm
 * dependencies stay external (installed with `pnpm install --prod`). Without tsx in the process
 * the gateway starts faster and uses ~45 MB less memory.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { join } from 'node:path';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { ROOT } from './lib/services';

/** Bundle our TypeScript packages, leave every npm package external. */
const externalNpmPackages: Plugin = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@loyalty-graph/') ? undefined : { path: args.path, external: true }));
  },
};

export const SERVICES = ['gateway', ...SUBGRAPHS.map((m) => `subgraphs/${m.name}`)];

/** How one service is bundled (also used by the test that checks what a bundle imports). */
export function bundleOptions(service: string): BuildOptions {
  return {
    entryPoints: [join(ROOT, service, 'src/main.ts')],
    // dist/ sits beside src/, so `new URL('../schema.graphql', import.meta.url)` still resolves.
    outfile: join(ROOT, service, 'dist/main.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    tsconfig: join(ROOT, 'tsconfig.json'),
    plugins: [externalNpmPackages],
    logLevel: 'warning',
  };
}

/** Further entry points shipped beside a service: the Apollo Router coprocessor (docs/deployment.md). */
export const EXTRA_BUNDLES = [{ entry: 'gateway/src/coprocessor-main.ts', outfile: 'gateway/dist/coprocessor.mjs' }];

export async function buildServices(): Promise<void> {
  for (const service of SERVICES) {
    await build(bundleOptions(service));
    console.log(`built ${service}/dist/main.mjs`);
  }
  for (const { entry, outfile } of EXTRA_BUNDLES) {
    await build({ ...bundleOptions('gateway'), entryPoints: [join(ROOT, entry)], outfile: join(ROOT, outfile) });
    console.log(`built ${outfile}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildServices().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
