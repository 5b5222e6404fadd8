/**
 * Registering a new subgraph in the workspace: `packages/supergraph` lists it (so `pnpm dev`,
 * compose, codegen, build, the tests and the benchmarks all include it) and depends on its package
 * (so the import resolves after `pnpm install`). Edits are computed in memory first: when a file is
 * not shaped as expected, nothing has been written yet.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileEdit {
  /** Relative to the workspace root. */
  path: string;
  before: string;
  after: string;
}

export const SUPERGRAPH_INDEX = 'packages/supergraph/src/index.ts';
const SUPERGRAPH_PACKAGE = 'packages/supergraph/package.json';
const ROOT_PACKAGE = 'package.json';

const SUBGRAPH_IMPORT = /^import \{ (\w+)Subgraph \} from '@loyalty-graph\/([a-z]+)';\n/gm;
const SUBGRAPH_LIST = /(export const SUBGRAPHS: SubgraphModule<ViewerContext>\[\] = \[\n(?:.*\n)*?)(\];)/;

function cannot(path: string, what: string): Error {
  return new Error(`Cannot register the subgraph: ${path} does not look as expected (${what}). Register it by hand, as the others are.`);
}

/** Adds the import (in alphabetical order) and the entry (last: it starts after the ones it may call). */
export function registerInSupergraphIndex(source: string, name: string): string {
  const imports = [...source.matchAll(SUBGRAPH_IMPORT)];
  if (!imports.length) throw cannot(SUPERGRAPH_INDEX, 'no `import { xSubgraph } from \'@loyalty-graph/x\'` line');
  if (!SUBGRAPH_LIST.test(source)) throw cannot(SUPERGRAPH_INDEX, 'no `export const SUBGRAPHS` list');
  const line = `import { ${name}Subgraph } from '@loyalty-graph/${name}';\n`;
  const next = imports.find((match) => match[2]! > name);
  const at = next ? next.index : imports.at(-1)!.index + imports.at(-1)![0].length;
  const imported = source.slice(0, at) + line + source.slice(at);
  return imported.replace(SUBGRAPH_LIST, (_all, list: string, end: string) => `${list}  ${name}Subgraph as unknown as SubgraphModule<ViewerContext>,\n${end}`);
}

type PackageJson = Record<string, unknown> & { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

function withDependency(source: string, field: 'dependencies' | 'devDependencies', name: string): string {
  const pkg = JSON.parse(source) as PackageJson;
  const deps = { ...pkg[field], [`@loyalty-graph/${name}`]: 'workspace:*' };
  pkg[field] = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * The edits that register `name`. The root package.json lists subgraphs only if it lists every
 * registered one (today it lists members alone, for the tests' and `pnpm dev`'s demo data, and
 * reaches the rest through the supergraph package), so it gets the new one only in that case.
 */
export async function registrationEdits(root: string, name: string, registered: string[]): Promise<FileEdit[]> {
  const read = (path: string) => readFile(join(root, path), 'utf8');
  const edits: FileEdit[] = [];
  const index = await read(SUPERGRAPH_INDEX);
  edits.push({ path: SUPERGRAPH_INDEX, before: index, after: registerInSupergraphIndex(index, name) });
  const supergraphPackage = await read(SUPERGRAPH_PACKAGE);
  edits.push({ path: SUPERGRAPH_PACKAGE, before: supergraphPackage, after: withDependency(supergraphPackage, 'dependencies', name) });
  const rootPackage = await read(ROOT_PACKAGE);
  const devDependencies = (JSON.parse(rootPackage) as PackageJson).devDependencies ?? {};
  if (registered.length && registered.every((other) => `@loyalty-graph/${other}` in devDependencies)) {
    edits.push({ path: ROOT_PACKAGE, before: rootPackage, after: withDependency(rootPackage, 'devDependencies', name) });
  }
  return edits;
}
