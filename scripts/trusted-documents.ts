import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSchema, Kind, parse, print, validate, visit, type DefinitionNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { ROOT } from './lib/services';

/**
 * `pnpm trusted-documents <dir or .graphql file>… [--out manifest.json]`: a front-end's build step.
 * Reads every operation in the app's .graphql files, checks it against the committed supergraph,
 * and writes Apollo's persisted query manifest (the format `@apollo/generate-persisted-query-manifest`
 * writes): one entry per operation, its body the operation and the fragments it uses, printed the
 * same way every time, its id the sha256 of that body. The app ships the manifest to the gateway
 * (TRUSTED_DOCUMENTS_PATH) and sends `extensions.persistedQuery.sha256Hash` = id (docs/limits.md).
 */
export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: ManifestOperation[];
}

export function buildManifest(sources: { path: string; text: string }[], schema: GraphQLSchema): PersistedQueryManifest {
  const operations: { node: OperationDefinitionNode; path: string }[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { path, text } of sources) {
    for (const definition of parse(text, { noLocation: true }).definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        if (!definition.name) throw new Error(`${path}: every operation needs a name (it names the manifest entry)`);
        operations.push({ node: definition, path });
      } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        if (fragments.has(definition.name.value)) throw new Error(`${path}: fragment ${definition.name.value} is defined twice`);
        fragments.set(definition.name.value, definition);
      } else {
        throw new Error(`${path}: only operations and fragments belong in an app's .graphql files`);
      }
    }
  }
  const names = new Set<string>();
  const entries = operations.map(({ node, path }) => {
    const name = node.name!.value;
    if (names.has(name)) throw new Error(`${path}: operation ${name} is defined twice`);
    names.add(name);
    const used = new Map<string, FragmentDefinitionNode>();
    const collect = (definition: DefinitionNode) =>
      visit(definition, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (!fragment) throw new Error(`${path}: ${name} uses unknown fragment ${spread.name.value}`);
          if (used.has(fragment.name.value)) return;
          used.set(fragment.name.value, fragment);
          collect(fragment);
        },
      });
    collect(node);
    const document = { kind: Kind.DOCUMENT, definitions: [node, ...[...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value))] } as const;
    const errors = validate(schema, document);
    if (errors.length) throw new Error(`${path}: ${name} does not validate against the supergraph:\n  ${errors.map((e) => e.message).join('\n  ')}`);
    const body = print(document);
    return { id: createHash('sha256').update(body).digest('hex'), name, type: node.operation, body };
  });
  return { format: 'apollo-persisted-query-manifest', version: 1, operations: entries.sort((a, b) => a.name.localeCompare(b.name)) };
}

function graphqlFiles(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const full = join(path, entry.name);
    return entry.isDirectory() ? graphqlFiles(full) : entry.name.endsWith('.graphql') ? [full] : [];
  });
}

function main(argv: string[]): void {
  const outIndex = argv.indexOf('--out');
  const out = outIndex >= 0 ? argv[outIndex + 1] : 'trusted-documents.json';
  const inputs = argv.filter((_, i) => i !== outIndex && i !== outIndex + 1);
  if (!inputs.length || !out) throw new Error('usage: pnpm trusted-documents <dir or .graphql file>… [--out manifest.json]');
  const schema = buildSchema(readFileSync(join(ROOT, 'supergraph.graphql'), 'utf8'));
  const files = inputs.flatMap(graphqlFiles);
  const manifest = buildManifest(
    files.map((path) => ({ path: relative(process.cwd(), path), text: readFileSync(path, 'utf8') })),
    schema,
  );
  writeFileSync(out, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`${out}: ${manifest.operations.length} operations from ${files.length} files`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
