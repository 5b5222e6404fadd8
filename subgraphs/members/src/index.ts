export { membersSubgraph, typeDefs } from './server';
export { memberIdByEmail, seedDemo, type DemoProgram } from './seed';
export type { RequestContext } from './context';
