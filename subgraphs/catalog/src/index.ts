export { catalogSubgraph, schema } from './server';
export type { RequestContext } from './context';
export { DEMO_PARTNER_ID, seedDemoCatalog, type DemoCatalogProgram } from './seed';
