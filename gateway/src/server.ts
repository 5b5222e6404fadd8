import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { createViewerSigner, depthLimit, errorLoggingPlugin, maskInternalError, REQUEST_ID_HEADER, serveGraphQL, serviceViewer, VIEWER_HEADER, type CorsConfig, type Logger, type RunningGraphQLServer, type Viewer } from '@loyalty-graph/shared';
import { createRequestAuthenticator, type Authenticate } from './auth';
import type { BudgetPolicy } from './limits/weights';
import { cachePartnerGrants, createPartnerKeyResolver, type GrantCacheOptions, type ResolvePartnerKey } from './partner-keys';
import { createHttpFetcher } from './http-fetcher';
import { createWarmUp } from './warm-up';
import { createLimits, type LimitsOptions } from './limits';
import { edgeErrorPlugins, edgeValidationRules } from './edge-errors';
import { answerSubgraphFailure } from './subgraph-failures';

export interface GatewayContext extends BaseContext {
  viewer: Viewer;
  requestId: string;
  /** The address an anonymous caller's budget is keyed by. */
  clientAddress?: string;
  /** A partner client's own budget (its grant's rateLimitPerMinute), instead of the partner default. */
  budget?: BudgetPolicy;
}

export interface GatewayOptions {
  /** Development: compose at start from the running subgraphs. */
  subgraphs?: { name: string; url: string }[];
  /** Production: the committed, composed supergraph. */
  supergraphSdl?: string;
  /** Bearer JWTs of members and staff. */
  authenticate: Authenticate;
  /**
   * Partner API keys → grants. Default: `apiKeyGrant` on the `partners` subgraph, found in
   * `subgraphs` or the supergraph's routing URLs; without one, no key is valid. Tests inject a
   * stand-in. Whatever resolves, the gateway caches it (`partnerKeyCache`).
   */
  resolvePartnerKey?: ResolvePartnerKey;
  /** At most 5 s (revocation applies within that); tests give a clock. */
  partnerKeyCache?: GrantCacheOptions;
  internalSecret: string;
  logger: Logger;
  /** Sandbox and introspection: development only. */
  development: boolean;
  /**
   * @apollo/gateway sends usage metrics to Apollo by default, probing cloud metadata endpoints
   * (AWS, GCP, Azure) to describe the host first. Off unless an operator opts in.
   */
  apolloTelemetry?: boolean;
  /**
   * Warm up before /ready answers (production): the first seconds after a start would otherwise
   * cost about twice the CPU per request (see warm-up.ts). Off in tests, which start many gateways.
   */
  warmUp?: boolean | { maxMs: number };
  /** Other origins whose pages may call (main.ts reads CORS_ORIGINS); none when absent. */
  cors?: CorsConfig;
  /** Cost, budgets and trusted documents (docs/limits.md); on with defaults when absent. */
  limits?: LimitsOptions;
  /** How long a subgraph may stay silent before its part of the answer is SUBGRAPH_TIMEOUT (default 30 s). */
  subgraphTimeoutMs?: number;
}

/** Shown in Apollo Sandbox on first visit: the till's lookup. */
const EXAMPLE_OPERATION = `# Paste an Authorization header from the \`pnpm dev\` output into Headers first.
query LookUpMember($programId: ID!, $email: String!) {
  memberByIdentifier(programId: $programId, type: EMAIL, value: $email) {
    id
    firstName
    status
    tier { name rank benefits { code description } }
  }
}
`;

export type RunningGateway = RunningGraphQLServer;

export async function startGateway(options: GatewayOptions, port: number): Promise<RunningGateway> {
  const sign = createViewerSigner(options.internalSecret);
  const fetcher = createHttpFetcher(options.subgraphTimeoutMs ? { timeoutMs: options.subgraphTimeoutMs } : {});

  class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
    constructor(
      readonly service: string,
      config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0],
    ) {
      super(config);
    }

    override process(options: Parameters<RemoteGraphQLDataSource<GatewayContext>['process']>[0]) {
      return answerSubgraphFailure(this.service, options, () => super.process(options));
    }

    override async willSendRequest({ request, context, kind }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
      // Only headers we set reach subgraphs: a client's own x-lg-viewer is never forwarded.
      // The kind enum is not exported by @apollo/gateway; its values are stable strings.
      const incoming = (kind as string) === 'incoming operation';
      const viewer = incoming ? (context as GatewayContext).viewer : serviceViewer('gateway');
      request.http?.headers.set(VIEWER_HEADER, await sign(viewer));
      if (incoming) request.http?.headers.set(REQUEST_ID_HEADER, (context as GatewayContext).requestId);
    }
  }

  // The gateway reads this switch from the environment in its constructor; there is no option.
  if (!options.apolloTelemetry) process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  const gateway = new ApolloGateway({
    ...(options.supergraphSdl
      ? { supergraphSdl: options.supergraphSdl }
      : { supergraphSdl: new IntrospectAndCompose({ subgraphs: options.subgraphs ?? [] }) }),
    buildService: ({ name, url }) => new SubgraphDataSource(name, { url, fetcher }),
  });

  const limits = createLimits(options.limits ?? {}, options.logger);
  let loaded = false;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: options.development,
    includeStacktraceInErrorResponses: false,
    // Defaults, stated so nobody turns them off by accident: CSRF prevention on, no batching.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    formatError: limits.formatError(maskInternalError, !options.development),
    // No "Did you mean …" suggestions in production (graphql-js names schema fields in them).
    hideSchemaDetailsFromClientErrors: !options.development,
    parseOptions: limits.parseOptions,
    ...(limits.persistedQueries ? { persistedQueries: limits.persistedQueries } : {}),
    validationRules: [depthLimit(), ...edgeValidationRules()],
    plugins: [
      errorLoggingPlugin(options.logger),
      ...edgeErrorPlugins<GatewayContext>(),
      options.development
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, document: EXAMPLE_OPERATION })
        : ApolloServerPluginLandingPageDisabled(),
      limits.plugin,
      { serverWillStart: async () => void (loaded = true) },
    ],
  });

  const warmUp = options.warmUp ? createWarmUp(options.logger, typeof options.warmUp === 'object' ? options.warmUp : {}) : null;
  const partnersUrl = partnersSubgraphUrl(options);
  const resolvePartnerKey = options.resolvePartnerKey ?? (partnersUrl ? createPartnerKeyResolver({ url: partnersUrl, internalSecret: options.internalSecret }) : null);
  const authenticate = createRequestAuthenticator({
    authenticate: warmUp ? warmUp.authenticate(options.authenticate) : options.authenticate,
    partnerKeys: resolvePartnerKey ? cachePartnerGrants(resolvePartnerKey, options.partnerKeyCache) : null,
  });
  let warmed = !warmUp;
  const server = await serveGraphQL<GatewayContext>({
    apollo,
    port,
    host: options.development ? '127.0.0.1' : '0.0.0.0',
    ready: async () => loaded && warmed,
    cors: options.cors,
    context: async ({ req, requestId }) => {
      // Every value of each header (headersDistinct): a credential sent twice is refused, not picked.
      const caller = await authenticate({ authorization: req.headersDistinct['authorization'], apiKey: req.headersDistinct['x-api-key'] }).catch((error: unknown) => {
        // Refused before any plugin runs, so no plugin logs it: operators must hear that the
        // partners subgraph cannot resolve keys (never which key: keys are not logged).
        if ((error as { extensions?: { code?: unknown } }).extensions?.code === 'SUBGRAPH_UNAVAILABLE') options.logger.warn('partner key lookup failed', { requestId, service: 'partners' });
        throw error;
      });
      return { ...caller, requestId, clientAddress: limits.clientAddress(req) };
    },
  });
  options.logger.info('gateway listening', { url: server.url });
  // Listening already (health checks answer), ready only once warm.
  if (warmUp) void warmUp.run(server.url.replace('0.0.0.0', '127.0.0.1')).finally(() => (warmed = true));
  return server;
}

/**
 * Where the partners subgraph answers `apiKeyGrant`: its entry in the development subgraph list,
 * or its routing URL in the supergraph (`join__graph(name: "partners", url: …)`).
 */
export function partnersSubgraphUrl(options: Pick<GatewayOptions, 'subgraphs' | 'supergraphSdl'>): string | null {
  const listed = options.subgraphs?.find((s) => s.name === 'partners');
  if (listed) return listed.url;
  const routed = options.supergraphSdl ? /@join__graph\(\s*name:\s*"partners"\s*,\s*url:\s*"([^"]+)"/.exec(options.supergraphSdl) : null;
  return routed?.[1] ?? null;
}
