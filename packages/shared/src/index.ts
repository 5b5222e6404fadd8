/**
 * What every service needs and the gateway can afford to load. Database code lives in
 * `@loyalty-graph/shared/db`, subgraph serving in `@loyalty-graph/shared/subgraph`.
 */
export * from './access';
export * from './clock';
export * from './cors';
export * from './control-characters';
export * from './depth-limit';
export * from './env';
export * from './error-masking';
export * from './errors';
export * from './http';
export * from './ids';
export * from './logger';
export * from './money';
export * from './pagination';
export * from './process';
export * from './scalar-literals';
export * from './payload';
export * from './scalars';
export * from './ttl-cache';
export * from './variable-errors';
export * from './viewer';
export * from './text-input';
