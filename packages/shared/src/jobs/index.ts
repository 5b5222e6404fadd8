/** Recurring jobs, claimed in the database so a job runs once however many replicas tick. */
export * from './scheduler';
