/** Serving a subgraph: only subgraph processes load @apollo/subgraph and the database layer. */
export * from './service';
export * from './scheduler';
export * from './subgraph-server';
