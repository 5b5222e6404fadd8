/**
 * Generates resolver types from each subgraph's schema.graphql (`scripts/lib/codegen.ts`).
 *
 *   pnpm codegen          write src/generated/resolvers.ts for every subgraph
 *   pnpm codegen:check    fail when a generated file is stale (part of `pnpm test`)
 *
 * Each subgraph's types come from its whole SDL as the subgraph kit joins it (the platform's
 * types, its own schema.graphql and the operators' fields), so this drives @graphql-codegen/core
 * over the subgraph list rather than pointing the CLI at files.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { generateResolverTypes, resolverTypesPath } from './lib/codegen';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const { name, typeDefs } of SUBGRAPHS) {
    const dir = join(ROOT, 'subgraphs', name);
    const path = resolverTypesPath(dir);
    const content = await generateResolverTypes(dir, typeDefs);
    const current = existsSync(path) ? await readFile(path, 'utf8') : null;
    if (current === content) continue;
    if (check) {
      stale.push(path);
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      console.log(`wrote ${path.slice(ROOT.length + 1)}`);
    }
  }
  if (stale.length) {
    console.error(`Generated resolver types are stale; run \`pnpm codegen\`:\n  ${stale.join('\n  ')}`);
    process.exitCode = 1;
  } else if (check) {
    console.log('generated resolver types are up to date');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
