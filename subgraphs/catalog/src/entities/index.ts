export * from './catalog';
export * from './reward';
export * from './order';
export * from './complaint';
