/** A member-snapshot projection (program, status, tier, groups) any subgraph mounts through the subgraph kit. */
export * from './members-client';
export * from './snapshots';
