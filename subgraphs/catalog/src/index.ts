export { catalogSubgraph, schema } from './server';
export type { RequestContext } from './context';
