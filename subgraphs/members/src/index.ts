export { membersSubgraph, schema } from './server';
export { memberIdByEmail, seedDemo, type DemoProgram } from './seed';
export type { RequestContext } from './context';
