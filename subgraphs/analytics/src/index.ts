export { analyticsSubgraph, schema } from './server';
export type { RequestContext } from './context';
