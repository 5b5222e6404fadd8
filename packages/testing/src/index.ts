export * from './client';
export * from './database';
export * from './supergraph';
export { freePort } from './global-setup';
