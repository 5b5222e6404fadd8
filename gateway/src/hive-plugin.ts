/**
 * Hive Gateway in front of our subgraphs, with our authentication: the scale-out path, where
 * GraphQL Hive's gateway (`hive-gateway supergraph supergraph.graphql`) replaces
 * `gateway/dist/main.mjs`. Subgraphs trust nothing but our signed internal viewer token, so Hive
 * Gateway must do exactly what our gateway does per request:
 *
 *   Authorization: Bearer <JWT>  →  createRequestAuthenticator (the same code and claims as ours;
 *   or X-Api-Key / Bearer lgp_…     partner keys through the partners subgraph, edge.ts)
 *                                →  Viewer  →  createViewerSigner  →  x-lg-viewer on every
 *                                   subgraph request, with the caller's x-request-id
 *
 * A missing token is the anonymous viewer; a bad one is HTTP 401 UNAUTHENTICATED before anything
 * runs. Hive Gateway forwards no client header to subgraphs unless told to (`propagateHeaders`),
 * and this plugin overwrites x-lg-viewer anyway, so a caller cannot forge one.
 *
 * Used from a Hive Gateway config file (`gateway/hive/gateway.config.ts`):
 *   export const gatewayConfig = defineConfig(loyaltyGraphHiveConfig(process.env));
 */
import type { IncomingMessage } from 'node:http';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import { z } from 'zod';
import { createLogger, createViewerSigner, depthLimit, parseEnv, REQUEST_ID_HEADER, requestIdFrom, VIEWER_HEADER, type Viewer } from '@loyalty-graph/shared';
import { createRequestAuthenticator } from './auth';
import { edgeFromEnv, type EdgeAuth } from './edge';
import type { BudgetPolicy } from './limits/weights';
// Files, not the folder: Hive's config loader refuses directory imports.
import { limitsEnv, limitsFromEnv } from './limits/config';
import { costOfRefusal, createLimits, type GatewayLimits } from './limits/limits';
import { DEFAULT_OPERATION_LIMITS } from './limits/weights';

interface RequestState {
  requestId: string;
  viewer?: Viewer;
  /** A partner client's own budget (its grant's rateLimitPerMinute). */
  budget?: BudgetPolicy;
}

/** The Hive Gateway plugin: authenticates each request and signs the viewer for the subgraphs. */
export function useLoyaltyGraphViewer(options: EdgeAuth & { limits?: GatewayLimits }): GatewayPlugin {
  const limits = options.limits;
  const sign = createViewerSigner(options.internalSecret);
  const authenticate = createRequestAuthenticator({ authenticate: options.authenticate, partnerKeys: options.partnerKeys ?? null });
  // Keyed by the incoming Request, which every hook below can reach; gone with the request.
  const requests = new WeakMap<Request, RequestState>();
  const stateOf = (request: Request): RequestState => {
    let state = requests.get(request);
    if (!state) {
      state = { requestId: requestIdFrom(request.headers.get(REQUEST_ID_HEADER)) };
      requests.set(request, state);
    }
    return state;
  };

  return {
    onRequest({ request }) {
      stateOf(request);
    },
    // Before parsing and validation, like our gateway's context: a bad token is refused first.
    async onParams({ request }) {
      // Throws UNAUTHENTICATED with http.status 401 (400, 503), which Yoga turns into the HTTP status.
      // Fetch's Headers join a repeated header with ", ", which no JWT or key contains: refused as malformed.
      const caller = await authenticate({ authorization: request.headers.get('authorization'), apiKey: request.headers.get('x-api-key') });
      const state = stateOf(request);
      state.viewer = caller.viewer;
      if (caller.budget) state.budget = caller.budget;
    },
    async onFetch({ context, executionRequest, options: init, setOptions }) {
      // Only subgraph calls made for a client's request carry a viewer; anything else the
      // gateway fetches (a supergraph from a CDN, say) must never see an internal token.
      if (!executionRequest || !('request' in context)) return;
      const state = requests.get(context.request);
      if (!state?.viewer) return;
      const headers = new Headers(init.headers as HeadersInit | undefined);
      headers.set(VIEWER_HEADER, await sign(state.viewer));
      headers.set(REQUEST_ID_HEADER, state.requestId);
      setOptions({ ...init, headers: Object.fromEntries(headers) });
    },
    // Our gateway's depth limit: the graph has cycles (Program → tiers → program …).
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimit());
    },
    // Our gateway's demand control (docs/limits.md): the same price, limits and budgets, kept in
    // the same store (RATE_LIMIT_REDIS_URL), so Hive and our gateway can even serve side by side.
    async onExecute({ args, setResultAndStopExecution }) {
      if (!limits) return;
      const request = (args.contextValue as { request?: Request }).request;
      const state = request ? requests.get(request) : undefined;
      const operation = getOperationAST(args.document, args.operationName);
      if (!state?.viewer || !operation) return;
      let admitted: Awaited<ReturnType<GatewayLimits['admit']>>;
      try {
        const req = (args.contextValue as { req?: IncomingMessage }).req;
        admitted = await limits.admit({
          viewer: state.viewer,
          clientAddress: req ? limits.clientAddress(req) : undefined,
          schema: args.schema,
          document: args.document,
          operation,
          variables: args.variableValues ?? undefined,
          queryHash: undefined,
          budget: state.budget,
        });
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        const cost = costOfRefusal(error);
        setResultAndStopExecution({ errors: [forYoga(error)], ...(cost ? { extensions: { cost } } : {}) });
        return;
      }
      const { cost, allowed } = admitted;
      if (!cost) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const single = result as ExecutionResult;
          if (allowed) limits.settle(cost, allowed, args.schema, args.document, operation, single.data as Record<string, unknown> | null | undefined);
          setResult({ ...single, extensions: { ...single.extensions, cost } });
        },
      };
    },
    onResponse({ request, response }) {
      const state = requests.get(request);
      if (state) response.headers.set(REQUEST_ID_HEADER, state.requestId);
    },
  };
}

/**
 * The part of a Hive Gateway config that makes it one of ours, from the same environment our
 * gateway reads (INTERNAL_TOKEN_SECRET, JWKS_URL or JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, PARTNERS_URL).
 * Spread into `defineConfig`; add the supergraph (file or CLI argument) and, for the Rust
 * query planner, `unifiedGraphHandler` from @graphql-hive/router-runtime.
 */
export function loyaltyGraphHiveConfig(env: Record<string, string | undefined>) {
  const edge = edgeFromEnv(env);
  // The same RATE_LIMIT_* / LIMIT_* / TRUSTED_DOCUMENTS_PATH settings as our gateway (docs/limits.md).
  // Trusted documents are not enforced here: Hive Gateway has its own persisted-documents feature.
  const limitSettings = limitsFromEnv(parseEnv(z.object(limitsEnv), env));
  const limits = createLimits({ ...limitSettings, trustedDocuments: undefined }, createLogger('hive-gateway', (env['LOG_LEVEL'] as 'info' | undefined) ?? 'info'));
  return {
    plugins: () => [useLoyaltyGraphViewer({ ...edge, limits })],
    // Parser limits as our gateway's (tokens before parsing; aliases, directives, cost after).
    maxTokens: limitSettings.operation?.maxTokens ?? DEFAULT_OPERATION_LIMITS.maxTokens,
    // As our gateway in production: no "Did you mean …" (the CLI's option; in-process runtimes ignore it).
    blockFieldSuggestions: true,
    // Hive Gateway shares one subgraph answer among identical requests in flight, keyed on the
    // request without the viewer this plugin signs onto it: every member's `{ me { … } }` is the
    // same text, so members asking at once got one another's profile. Every subgraph answer here
    // depends on who asks; nothing may be shared.
    transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
    // The plugin sets x-request-id itself, with our rule for a caller's value.
    requestId: false,
    // Apollo Server's rule and header names, so clients written for our gateway work unchanged:
    // a request a browser sends without a CORS preflight must carry one of these headers.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight'] },
    // As our gateway in production: no schema map for anonymous callers.
    disableIntrospection: {},
    landingPage: false,
    graphiql: false,
  };
}

/**
 * Apollo Server reads an error's HTTP headers from a HeaderMap, Yoga (under Hive Gateway) from a
 * plain object: the same refusal, with its status and Retry-After, in Yoga's shape.
 */
function forYoga(error: GraphQLError): GraphQLError {
  const http = error.extensions['http'] as { status?: number; headers?: Map<string, string> } | undefined;
  const headers = http?.headers ? Object.fromEntries(http.headers) : undefined;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: http?.status ?? 400, ...(headers ? { headers } : {}) } } });
}
