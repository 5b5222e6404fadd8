/** Domain events between subgraphs: outbox and feed (producers), consumers, the typed catalogue. */
export * from './catalog';
export * from './consumer';
export * from './envelope';
export * from './jetstream';
export * from './outbox';
export * from './operations';
export * from './source';
