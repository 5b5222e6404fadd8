import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { parse, type DocumentNode } from 'graphql';
import { applyAccessControl, type ViewerContext } from '../access';
import { controlCharacterPlugin } from '../control-characters';
import { variableErrorFieldPlugin } from '../variable-errors';
import { depthLimit } from '../depth-limit';
import { applyIdValidation } from '../ids';
import { unauthenticated } from '../errors';
import { errorLoggingPlugin, maskInternalError } from '../error-masking';
import { serveGraphQL, type RunningGraphQLServer } from '../http';
import type { Logger } from '../logger';
import { createViewerVerifier, VIEWER_HEADER, type Viewer } from '../viewer';
import { FEED_PATH, feedHandler, type EventConsumer, type OutboxFeed } from '../events';
import type { Scheduler, SubgraphJob } from '../jobs';
import { identifyMember, type MemberIdentity } from './member-identity';

export interface SubgraphServerOptions<TContext extends ViewerContext> {
  name: string;
  typeDefs: string | DocumentNode;
  /** The codegen-typed resolver map (`Resolvers`); kept structural so any subgraph's fits. */
  resolvers: object;
  /** Builds the per-request context (loaders, services) once the viewer is known. */
  context: (base: ViewerContext) => TContext;
  internalSecret: string;
  logger: Logger;
  /** Readiness probe, e.g. a database ping. */
  ready: () => Promise<void>;
  /** Introspection is for development; production schemas are known from the supergraph. */
  introspection: boolean;
  /** Recurring work (posting pending points, expiring holds). */
  jobs?: SubgraphJob[];
  /** Runs the jobs on schedule in the service process (tests call them directly or tick it). */
  scheduler?: Scheduler;
  /** The subgraph's outbox feed, served to other subgraphs on /events. */
  feed?: OutboxFeed;
  /** Other subgraphs' events this one applies; they run in the service process. */
  consumers?: EventConsumer[];
  /** Who a member token's subject enrolled as (member-identity.ts); without it, member ids are the token's own. */
  memberIdentity?: MemberIdentity;
}

export type SubgraphServer = RunningGraphQLServer;

/**
 * The one way every subgraph is served: federation schema with @access enforced, viewer taken
 * only from the gateway's signed token, errors masked, health/readiness, graceful shutdown.
 */
export async function startSubgraphServer<TContext extends ViewerContext>(
  options: SubgraphServerOptions<TContext>,
  port: number,
  host = '127.0.0.1',
): Promise<SubgraphServer> {
  const typeDefs = typeof options.typeDefs === 'string' ? parse(options.typeDefs) : options.typeDefs;
  // Access is checked first (the outer wrapper), so an unauthorised caller learns nothing from id errors.
  const schema = applyAccessControl(applyIdValidation(buildSubgraphSchema([{ typeDefs, resolvers: options.resolvers as GraphQLResolverMap<TContext> }])));
  const verifyViewer = createViewerVerifier(options.internalSecret);

  const apollo = new ApolloServer<TContext>({
    schema,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: maskInternalError,
    // Subgraphs are reachable only with the gateway's token, but enforce the same ceiling.
    validationRules: [depthLimit()],
    plugins: [
      errorLoggingPlugin(options.logger),
      // Every subgraph refuses control characters in any string argument, whoever calls it.
      controlCharacterPlugin(),
      variableErrorFieldPlugin(),
      ApolloServerPluginLandingPageDisabled(),
      // Inline traces are for Apollo Studio, which we do not use; they cost time on every request.
      ApolloServerPluginInlineTraceDisabled(),
    ],
  });

  const server = await serveGraphQL<TContext>({
    apollo,
    port,
    host,
    ...(options.feed ? { routes: { [FEED_PATH]: feedHandler(options.feed, options.internalSecret) } } : {}),
    ready: async () => {
      await options.ready();
      return true;
    },
    context: async ({ req, requestId }) => {
      const token = req.headers[VIEWER_HEADER];
      // Subgraphs are not for clients: without the gateway's signed token there is no viewer.
      if (typeof token !== 'string') throw unauthenticated('Missing internal viewer token: call the gateway, not a subgraph', 401);
      let viewer: Viewer;
      try {
        viewer = await verifyViewer(token);
      } catch {
        throw unauthenticated('Invalid or expired internal viewer token', 401);
      }
      if (options.memberIdentity) viewer = await identifyMember(viewer, options.memberIdentity, token);
      return options.context({ viewer, requestId });
    },
  });
  options.logger.info('subgraph listening', { subgraph: options.name, url: server.url });
  return server;
}
