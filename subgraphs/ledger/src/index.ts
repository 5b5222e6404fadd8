export { ledgerSubgraph, schema } from './server';
export type { RequestContext } from './context';
