export { ledgerSubgraph, typeDefs } from './server';
export type { RequestContext } from './context';
