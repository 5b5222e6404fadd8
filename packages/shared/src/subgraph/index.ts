/** Serving a subgraph: only subgraph processes load @apollo/subgraph and the database layer. */
export * from './define';
export * from './lifecycle';
export * from './member-identity';
export * from './operations';
export * from './peer-client';
export * from './platform-schema';
export * from './service';
export * from './subgraph-server';
