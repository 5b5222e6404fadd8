/**
 * GraphQL Code Generator's config (the CLI): resolver types for every subgraph in the list, each
 * from its whole SDL as the subgraph kit joins it; see scripts/lib/codegen.ts.
 *
 *   pnpm codegen          write every src/generated/resolvers.ts and docs/events.md's catalogue
 *   pnpm codegen:check    fail when either is stale (part of `pnpm test`)
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { SUBGRAPHS } from '@loyalty-graph/supergraph';
import { resolverTypesOutput, resolverTypesPath } from './scripts/lib/codegen';

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: Object.fromEntries(SUBGRAPHS.map(({ name, typeDefs }) => [resolverTypesPath(`subgraphs/${name}`), resolverTypesOutput(`subgraphs/${name}`, typeDefs)])),
};

export default config;
