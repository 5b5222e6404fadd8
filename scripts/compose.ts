/**
 * `pnpm compose`: composes the subgraphs' schemas into supergraph.graphql with
 * @apollo/composition. The file is committed; production gateways (or Apollo Router / Hive
 * Gateway) load it, and a test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_PATH } from '@loyalty-graph/supergraph';

writeFileSync(SUPERGRAPH_PATH, composeSupergraph());
console.log(`wrote ${SUPERGRAPH_PATH.pathname}`);
