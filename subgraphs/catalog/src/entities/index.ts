export * from './catalog';
export * from './reward';
