/** Test helpers for any subgraph; the whole supergraph is `@loyalty-graph/testing/supergraph`. */
export * from './client';
export * from './database';
export * from './memory-feed';
export * from './subgraph';
export { freePort } from './global-setup';
