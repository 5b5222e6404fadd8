/**
 * `pnpm new:subgraph <name> <port>`: writes `subgraphs/<name>/` in the house shape from
 * `scripts/templates/subgraph/`, registers it in `packages/supergraph` and generates its resolver
 * types (`scripts/lib/new-subgraph/`). Exit code 2 for bad arguments (nothing is written), 1 for
 * anything else.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { parseArguments, UsageError } from './lib/new-subgraph/arguments';
import { generateSubgraph, takenInWorkspace } from './lib/new-subgraph/generate';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const registered = SUBGRAPHS.map(({ name, defaultPort }) => ({ name, defaultPort }));
  const { name, port } = parseArguments(process.argv.slice(2), await takenInWorkspace(ROOT, registered));
  const { written, edited } = await generateSubgraph({ root: ROOT, name, port, registered });
  console.log(`Created subgraphs/${name}/ (${written.length} files) and registered it in ${edited.join(', ')}.

Next:
  pnpm install    link @loyalty-graph/${name} into the workspace (the supergraph package imports it)
  pnpm codegen    regenerate its resolver types (already done once; again after editing schema.graphql)
  pnpm compose    add it to supergraph.graphql (the composition test fails until you do)
  pnpm test

Then replace the TODOs: subgraphs/${name}/README.md, schema.graphql (its entity is a placeholder) and src/.`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
