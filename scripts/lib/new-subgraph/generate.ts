/**
 * The generator's core: writes `subgraphs/<name>/` under a workspace root from the templates,
 * registers it, and generates its resolver types, so the new subgraph type-checks, composes and
 * starts without a hand edit. It takes the root as an argument: tests generate into a temporary
 * workspace, never into the repository.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { subgraphSdl } from '@loyalty-graph/shared/subgraph';
import { generateResolverTypes, resolverTypesPath } from '../codegen';
import { parseArguments, takenIn, UsageError, type Taken } from './arguments';
import { registrationEdits } from './register';
import { placeholders, renderTemplates } from './templates';

export interface GenerateOptions {
  /** The workspace root: `subgraphs/<name>/` is created under it and `packages/supergraph` edited. */
  root: string;
  name: string;
  port: number;
  /** The subgraphs registered so far (`SUBGRAPHS`): their names and ports are taken. */
  registered: { name: string; defaultPort: number }[];
  /** Stamps the initial migration; now by default. */
  now?: Date;
}

export interface GeneratedSubgraph {
  /** The new subgraph's folder. */
  dir: string;
  /** Every file written, relative to the workspace root. */
  written: string[];
  /** The workspace files changed to register it, relative to the workspace root. */
  edited: string[];
}

/** Names and ports taken in the workspace at `root` (registered subgraphs, the gateway, packages/*). */
export async function takenInWorkspace(root: string, registered: GenerateOptions['registered']): Promise<Taken> {
  const packagesDir = join(root, 'packages');
  const packages = existsSync(packagesDir) ? (await readdir(packagesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name) : [];
  return takenIn(registered, packages);
}

export async function generateSubgraph(options: GenerateOptions): Promise<GeneratedSubgraph> {
  const { root, registered } = options;
  // The core checks its arguments too: a caller other than the CLI gets the same guarantees.
  const { name, port } = parseArguments([options.name, String(options.port)], await takenInWorkspace(root, registered));
  const dir = join(root, 'subgraphs', name);
  if (existsSync(dir)) throw new UsageError(`subgraphs/${name} already exists; the generator never overwrites. Pick another name or remove the folder.`);

  // Everything that can fail on the workspace's shape fails here, before anything is written.
  const files = await renderTemplates(placeholders(name, port, options.now ?? new Date()));
  const edits = await registrationEdits(root, name, registered.map((s) => s.name));
  const schema = files.find((file) => file.path === 'schema.graphql');
  if (!schema) throw new Error('The templates have no schema.graphql');

  await mkdir(dirname(dir), { recursive: true });
  // Not recursive: creating the folder itself is the final check that nothing is overwritten.
  await mkdir(dir);
  try {
    for (const file of files) {
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content, { flag: 'wx' });
    }
    // The same SDL the kit serves (nothing consumed yet), so `pnpm codegen:check` agrees.
    const typesPath = resolverTypesPath(dir);
    await mkdir(dirname(typesPath), { recursive: true });
    await writeFile(typesPath, await generateResolverTypes(dir, subgraphSdl(name, schema.content, { consumes: false })), { flag: 'wx' });
    for (const edit of edits) await writeFile(join(root, edit.path), edit.after);
  } catch (error) {
    // Leave the workspace as it was: a half-written subgraph is worse than none.
    await rm(dir, { recursive: true, force: true });
    for (const edit of edits) await writeFile(join(root, edit.path), edit.before);
    throw error;
  }
  return {
    dir,
    written: [...files.map((file) => `subgraphs/${name}/${file.path}`), `subgraphs/${name}/src/generated/resolvers.ts`],
    edited: edits.map((edit) => edit.path),
  };
}
