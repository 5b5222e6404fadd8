import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { ViewerContext } from '@loyalty-graph/shared';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { analyticsSubgraph } from '@loyalty-graph/analytics';
import { catalogSubgraph } from '@loyalty-graph/catalog';
import { ledgerSubgraph } from '@loyalty-graph/ledger';
import { membersSubgraph } from '@loyalty-graph/members';
import { partnersSubgraph } from '@loyalty-graph/partners';

/**
 * The subgraphs the graph is composed of, in one place: `pnpm dev`, `pnpm compose`, the tests and
 * the benchmarks all start or compose exactly this list.
 */
export const SUBGRAPHS: SubgraphModule<ViewerContext>[] = [
  // Order matters: a subgraph starts after the ones it calls (the ledger asks members).
  membersSubgraph as unknown as SubgraphModule<ViewerContext>,
  ledgerSubgraph as unknown as SubgraphModule<ViewerContext>,
  catalogSubgraph as unknown as SubgraphModule<ViewerContext>,
  partnersSubgraph as unknown as SubgraphModule<ViewerContext>,
  analyticsSubgraph as unknown as SubgraphModule<ViewerContext>,
];

/** Where the committed supergraph lives (production gateways load it instead of composing). */
export const SUPERGRAPH_PATH = new URL('../../../supergraph.graphql', import.meta.url);

/** Routing URLs written into the committed supergraph; deployments override them per subgraph. */
export function defaultRoutingUrl(module: SubgraphModule<ViewerContext>): string {
  return `http://127.0.0.1:${module.defaultPort}/graphql`;
}

/** Composes the subgraphs' SDL with @apollo/composition; throws with every composition error. */
export function composeSupergraph(
  subgraphs: { name: string; typeDefs: string; url: string }[] = SUBGRAPHS.map((m) => ({ name: m.name, typeDefs: m.typeDefs, url: defaultRoutingUrl(m) })),
): string {
  const result = composeServices(subgraphs.map(({ name, typeDefs, url }) => ({ name, url, typeDefs: parse(typeDefs) })));
  if (result.errors) throw new Error(`The subgraphs do not compose:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

export function committedSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}

export { checkRoutingUrls, routeSupergraph } from './routing';
