/** Database pieces, kept out of the main entry so the gateway never loads TypeORM or pg. */
export * from './database';
export * from './idempotency';
export * from './loaders';
export * from './select-list';
