/** The event contracts, one module per producer: what each subgraph tells the others. */
export * from './analytics';
export * from './catalog';
export * from './ledger';
export * from './members';
export * from './partners';
