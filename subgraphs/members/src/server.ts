import { readFileSync } from 'node:fs';
import { pingDatabase } from '@loyalty-graph/shared/db';
import type { SubgraphModule } from '@loyalty-graph/shared/subgraph';
import { createContextFactory, type RequestContext } from './context';
import { entities } from './entities';
import { migrations } from './migrations';
import { resolvers } from './resolvers';

/** Read relative to this module, never the working directory. */
export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Programs, members, tiers, groups and consents. Building it does no I/O. */
export const membersSubgraph: SubgraphModule<RequestContext> = {
  name: 'members',
  defaultPort: 4001,
  typeDefs,
  database: { name: 'members', entities, migrations },
  create: ({ db, clock, logger, internalSecret, introspection }) => ({
    name: 'members',
    typeDefs,
    resolvers,
    context: createContextFactory(db, clock),
    internalSecret,
    logger,
    introspection,
    ready: () => pingDatabase(db),
  }),
};
