/** Domain events between subgraphs: outbox and feed (producers), consumers, typed contracts. */
export * from './consumer';
export * from './contract';
export * from './deferred';
export * from './envelope';
export * from './jetstream';
export * from './outbox';
export * from './retention';
export * from './source';
