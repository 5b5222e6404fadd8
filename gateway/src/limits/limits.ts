import type { IncomingMessage } from 'node:http';
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLErrorExtensions, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Logger, Viewer } from '@loyalty-graph/shared';
import { MemoryBudgetStore, type BudgetStore } from './budget';
import { actualCost, CostCache } from './cost';
import { RedisBudgetStore } from './redis-budget';
import { trustedDocumentsCache, type TrustedDocuments } from './trusted-documents';
import {
  DEFAULT_BUDGETS,
  DEFAULT_OPERATION_LIMITS,
  DEFAULT_WEIGHTS,
  type BudgetPolicy,
  type CallerKind,
  type CostWeights,
  type OperationLimits,
} from './weights';

/** The error codes of this module, documented in docs/limits.md. */
export const LimitCode = {
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  ALIAS_LIMIT_EXCEEDED: 'ALIAS_LIMIT_EXCEEDED',
  DIRECTIVE_LIMIT_EXCEEDED: 'DIRECTIVE_LIMIT_EXCEEDED',
  TOKEN_LIMIT_EXCEEDED: 'TOKEN_LIMIT_EXCEEDED',
  RATE_LIMITED: 'RATE_LIMITED',
  OPERATION_NOT_TRUSTED: 'OPERATION_NOT_TRUSTED',
} as const;
const LIMIT_CODES: ReadonlySet<string> = new Set(Object.values(LimitCode));
/** Extensions a limit error carries besides its code. */
const LIMIT_EXTENSIONS = ['cost', 'maximum', 'count', 'retryAfterMs'] as const;

/**
 * The staff-tools scope: a staff token carrying it in its `scope` claim (the back-office console,
 * scripts, GraphQL IDEs) may send operations that are not in the trusted-documents manifest.
 */
export const ANY_OPERATION_SCOPE = 'graph:any-operation';

export type TrustedDocumentsMode = 'off' | 'enforce';

export interface LimitsOptions {
  operation?: Partial<OperationLimits>;
  budgets?: Partial<Record<CallerKind, BudgetPolicy>>;
  weights?: CostWeights;
  /** Shared budgets across replicas; in this process when absent. */
  redisUrl?: string;
  /** A store of one's own (tests: a clock they move). Wins over `redisUrl`. */
  store?: BudgetStore;
  trustedDocuments?: { documents: TrustedDocuments; mode: TrustedDocumentsMode };
  /**
   * Proxies in front of the gateway that append to X-Forwarded-For (a load balancer: 1). Zero:
   * the socket's address is the client's, and X-Forwarded-For, which anyone can send, is ignored.
   */
  trustedProxyHops?: number;
  /**
   * Off: no pricing, no budgets, no trusted documents (suggestions still go in production). Only
   * for measuring what the limits themselves cost (`pnpm bench members`); never in production.
   */
  off?: boolean;
}

interface LimitsContext extends BaseContext {
  viewer: Viewer;
  clientAddress?: string;
  budget?: BudgetPolicy;
}

/** Shopify's shape: what the operation was priced at, and the caller's bucket after it. */
export interface CostExtension {
  requestedQueryCost: number;
  /** From the data returned (lists by their real length); absent when the operation did not run. */
  actualQueryCost?: number;
  maximumQueryCost: number;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

interface Charge {
  key: string;
  policy: BudgetPolicy;
  /** What input sizes cost (a bulk call's lines): work done whatever the answer, never refunded. */
  sized: number;
}

/** What `admit` needs to know of an operation, whichever gateway runs it. */
export interface OperationToAdmit {
  viewer: Viewer;
  clientAddress: string | undefined;
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Readonly<Record<string, unknown>> | undefined;
  /** sha256 of the document text, for trusted documents. */
  queryHash: string | undefined;
  /**
   * The caller's own budget, instead of its kind's: a partner API client with a
   * rateLimitPerMinute (the operator's setting per client, from its grant).
   */
  budget?: BudgetPolicy | undefined;
}

/** The price and the charge of an admitted operation (none for the gateway's own warm-up). */
export interface Admitted {
  cost?: CostExtension;
  allowed?: Charge;
}

export interface GatewayLimits {
  plugin: ApolloServerPlugin<LimitsContext>;
  /** Prices and charges an operation, or throws the limit it breaks (a GraphQLError with its HTTP status). */
  admit(op: OperationToAdmit): Promise<Admitted>;
  /** After execution: the actual cost, and the refund of what the operation did not use. */
  settle(cost: CostExtension, charged: Charge, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, data: Readonly<Record<string, unknown>> | null | undefined): void;
  parseOptions: { maxTokens: number };
  /** Apollo's APQ options: the manifest's operations are served by hash at once. */
  persistedQueries: { cache: ReturnType<typeof trustedDocumentsCache> } | undefined;
  clientAddress(req: IncomingMessage): string;
  /** Wraps the gateway's formatError: limit errors keep their details; suggestions go in production. */
  formatError(next: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError, hideSuggestions: boolean): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export function createLimits(options: LimitsOptions, logger: Logger): GatewayLimits {
  const operationLimits = { ...DEFAULT_OPERATION_LIMITS, ...options.operation };
  const budgets = { ...DEFAULT_BUDGETS, ...options.budgets };
  const weights = options.weights ?? DEFAULT_WEIGHTS;
  const costs = new CostCache(weights);
  const store: BudgetStore = options.store ?? (options.redisUrl ? new RedisBudgetStore(options.redisUrl, logger) : new MemoryBudgetStore());
  const trusted = options.trustedDocuments;
  const hops = options.trustedProxyHops ?? 0;
  if (options.off) logger.warn('GATEWAY_LIMITS=off: operations are neither priced nor limited (for measurements only)');

  /**
   * Prices an operation and charges its caller, or throws the limit it breaks. Shared by our
   * Apollo plugin and the Hive Gateway plugin (hive-plugin.ts), so both edges enforce one model.
   */
  const admit = async (op: OperationToAdmit): Promise<Admitted> => {
    const { viewer } = op;
    if (trusted?.mode === 'enforce' && mustBeTrusted(viewer) && !trusted.documents.has(op.queryHash ?? '')) {
      throw limitError(LimitCode.OPERATION_NOT_TRUSTED, 'This operation is not registered for this application: send a registered operation (docs/limits.md, trusted documents)', 400, {});
    }
    const analysis = costs.analyze(op.schema, op.document, op.operation, op.variables);
    if (analysis.aliases > operationLimits.maxAliases) {
      throw limitError(LimitCode.ALIAS_LIMIT_EXCEEDED, `The operation uses ${analysis.aliases} aliases; at most ${operationLimits.maxAliases} are allowed`, 400, { count: analysis.aliases, maximum: operationLimits.maxAliases });
    }
    if (analysis.directives > operationLimits.maxDirectives) {
      throw limitError(LimitCode.DIRECTIVE_LIMIT_EXCEEDED, `The operation uses ${analysis.directives} directives; at most ${operationLimits.maxDirectives} are allowed`, 400, { count: analysis.directives, maximum: operationLimits.maxDirectives });
    }
    const kind = callerKind(viewer);
    const policy = op.budget ?? budgets[kind];
    // An operation dearer than the whole bucket could never run: refuse it for good, not "retry later".
    // A bulk call has a ceiling of its own (a full one must fit), still within the bucket.
    const maximum = Math.min(analysis.bulk ? operationLimits.maxBulkCost : operationLimits.maxCost, policy.capacity);
    if (analysis.cost > maximum) {
      const advice = analysis.bulk ? 'send fewer lines per call, or read less of the report' : 'ask for smaller pages or fewer fields';
      throw limitError(LimitCode.COST_LIMIT_EXCEEDED, `The operation costs ${analysis.cost}; at most ${maximum} is allowed (${advice})`, 400, { cost: analysis.cost, maximum });
    }
    // A SERVICE viewer never comes from a client's credentials; at the gateway it is only its
    // own warm-up (warm-up.ts), which must not spend a shared budget on the replicas' behalf.
    if (viewer.kind === 'SERVICE') return {};
    const key = budgetKey(kind, viewer, op.clientAddress);
    const decision = await store.take(key, analysis.cost, policy);
    const cost: CostExtension = {
      requestedQueryCost: analysis.cost,
      maximumQueryCost: maximum,
      throttleStatus: { maximumAvailable: policy.capacity, currentlyAvailable: Math.floor(decision.available), restoreRate: policy.restoreRate },
    };
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const headers = new HeaderMap([['retry-after', String(seconds)], ...rateLimitHeaders(kind, policy, decision.available)]);
      const refusal = limitError(LimitCode.RATE_LIMITED, `Too many requests: this operation costs ${analysis.cost} and ${Math.floor(decision.available)} of your budget is left; retry in ${seconds} s`, 429, { cost: analysis.cost, retryAfterMs: decision.retryAfterMs }, headers);
      // The refusal still reports the price and the bucket, as every response does.
      throw Object.assign(refusal, { cost });
    }
    return { cost, allowed: { key, policy, sized: analysis.sized } };
  };

  /** Shopify's refund: the caller pays for what the operation did, not for the worst case. */
  const settle = (cost: CostExtension, charged: Charge, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, data: Readonly<Record<string, unknown>> | null | undefined): void => {
    const actual = actualCost(schema, document, operation, data, weights) + charged.sized;
    const refund = cost.requestedQueryCost - actual;
    cost.actualQueryCost = actual;
    if (refund > 0) {
      cost.throttleStatus.currentlyAvailable = Math.min(charged.policy.capacity, cost.throttleStatus.currentlyAvailable + refund);
      // Not awaited: the response need not wait for the budget store.
      void store.refund(charged.key, refund, charged.policy);
    }
  };

  const plugin: ApolloServerPlugin<LimitsContext> = {
    async serverWillStart() {
      // Serve once the budget store answers, so the first requests are counted; a store that does
      // not answer is reported, and requests pass (as when it fails later) rather than the start.
      await store.ping?.().catch((error: unknown) => logger.warn('budget store not reachable at start; operations pass uncounted until it is', { error: error instanceof Error ? error.message : String(error) }));
      return { serverWillStop: () => store.close() };
    },
    async requestDidStart({ contextValue }) {
      if (options.off) return {};
      let cost: CostExtension | undefined;
      let allowed: Charge | undefined;
      let charged: Charge | undefined;
      return {
        async didResolveOperation(request) {
          // No operation (several and no operationName): Apollo answers that itself.
          if (!request.operation) return;
          try {
            ({ cost, allowed } = await admit({
              viewer: contextValue.viewer,
              clientAddress: contextValue.clientAddress,
              schema: request.schema,
              document: request.document,
              operation: request.operation,
              variables: request.request.variables,
              queryHash: request.queryHash,
              budget: contextValue.budget,
            }));
          } catch (error) {
            cost = costOfRefusal(error);
            throw error;
          }
        },
        async executionDidStart() {
          charged = allowed;
        },
        async willSendResponse(request) {
          const { response } = request;
          if (!cost || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (charged && request.document && request.operation) settle(cost, charged, request.schema, request.document, request.operation, result.data);
          result.extensions = { ...result.extensions, cost };
        },
      };
    },
  };

  return {
    plugin,
    admit: (op) => (options.off ? Promise.resolve({}) : admit(op)),
    settle,
    parseOptions: { maxTokens: operationLimits.maxTokens },
    persistedQueries: trusted ? { cache: trustedDocumentsCache(trusted.documents) } : undefined,
    clientAddress: (req) => clientAddress(req, hops),
    formatError: (next, hideSuggestions) => (formatted, error) => {
      const result = formatLimitError(formatted, operationLimits.maxTokens) ?? next(formatted, error);
      if (!hideSuggestions) return result;
      // Apollo's wording names the server software and how to turn introspection on: neither is the caller's business.
      if (result.message.startsWith('GraphQL introspection is not allowed')) return { ...result, message: 'GraphQL introspection is not allowed on this server.' };
      return result.message.includes('Did you mean') ? { ...result, message: withoutSuggestions(result.message) } : result;
    },
  };
}

/** The price a RATE_LIMITED refusal carries (see `admit`). */
export function costOfRefusal(error: unknown): CostExtension | undefined {
  return (error as { cost?: CostExtension } | null)?.cost;
}

/**
 * The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy as a quota `q` of
 * cost points over a window `w` (the seconds an empty bucket takes to fill), and the caller's
 * state as `r` points remaining and `t` seconds until the bucket is full again. Named after the
 * caller kind, so a client can tell which budget it is on. Retry-After says when *this* operation fits.
 */
export function rateLimitHeaders(name: string, policy: BudgetPolicy, available: number): [string, string][] {
  const remaining = Math.max(0, Math.floor(available));
  const window = Math.max(1, Math.ceil(policy.capacity / policy.restoreRate));
  const reset = Math.max(0, Math.ceil((policy.capacity - available) / policy.restoreRate));
  return [
    ['ratelimit-policy', `"${name}";q=${policy.capacity};w=${window}`],
    ['ratelimit', `"${name}";r=${remaining};t=${reset}`],
  ];
}

function limitError(code: string, message: string, status: number, details: Record<string, number>, headers?: HeaderMap): GraphQLError {
  // Apollo Server reads `http.headers` as its HeaderMap; Hive's typings (in this workspace for the
  // Hive plugin) declare a plain record there, hence the cast.
  const extensions = { code, ...details, http: { status, ...(headers ? { headers } : {}) } } as unknown as GraphQLErrorExtensions;
  return new GraphQLError(message, { extensions });
}

/** Limit errors pass with their details; the parser's token limit becomes our documented code. */
function formatLimitError(formatted: GraphQLFormattedError, maxTokens: number): GraphQLFormattedError | null {
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && LIMIT_CODES.has(code)) {
    const extensions: Record<string, unknown> = { code };
    for (const key of LIMIT_EXTENSIONS) if (formatted.extensions?.[key] !== undefined) extensions[key] = formatted.extensions[key];
    return { message: formatted.message, extensions };
  }
  // graphql-js 16 spells it "more that"; accept the fixed spelling too.
  if (code === 'GRAPHQL_PARSE_FAILED' && /Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
    return { message: `The document has more than ${maxTokens} tokens; at most ${maxTokens} are allowed`, extensions: { code: LimitCode.TOKEN_LIMIT_EXCEEDED, maximum: maxTokens } };
  }
  return null;
}

/**
 * graphql-js 16 suggests names from the schema in validation and coercion errors ("Cannot query
 * field "fristName" on type "Member". Did you mean "firstName"?"), and has no switch to stop it:
 * enough to map a schema without introspection. GraphQL names cannot contain "?", so the
 * suggestion ends at the first one after "Did you mean".
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^?]*\?/g, '');
}

function callerKind(viewer: Viewer): CallerKind {
  switch (viewer.kind) {
    case 'ANONYMOUS':
      return 'anonymous';
    case 'MEMBER':
      return 'member';
    case 'PARTNER':
      return 'partner';
    default:
      return 'staff';
  }
}

function budgetKey(kind: CallerKind, viewer: Viewer, address: string | undefined): string {
  if (kind === 'anonymous') return `anonymous:${address ?? 'unknown'}`;
  // Per API client (the viewer's subject), not per partner: each client has its own setting, and
  // one partner's busy batch import must not starve its till integration.
  if (kind === 'partner') return `partner:${viewer.subject}`;
  return `${kind}:${viewer.subject}`;
}

/** Anonymous callers, members and staff use first-party apps; partners and staff tools do not. */
function mustBeTrusted(viewer: Viewer): boolean {
  if (viewer.kind === 'PARTNER' || viewer.kind === 'SERVICE') return false;
  if (viewer.kind === 'STAFF' && viewer.scopes.includes(ANY_OPERATION_SCOPE)) return false;
  return true;
}

/**
 * The address a budget is keyed by. IPv6 callers are keyed by their /64: one subscriber usually
 * holds a whole /64, and would otherwise have 2^64 budgets.
 */
export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops > 0) {
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((a) => a.trim()).filter(Boolean);
    // Each trusted proxy appends the address it saw; the one our outermost proxy saw is the client.
    const seen = forwarded[forwarded.length - trustedProxyHops];
    if (seen) address = seen;
  }
  return normalizeAddress(address);
}

function normalizeAddress(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
