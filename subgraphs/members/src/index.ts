export { membersSubgraph, typeDefs } from './server';
export type { RequestContext } from './context';
