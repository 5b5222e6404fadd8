import type { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ErrorCode } from '@loyalty-graph/shared';
import { GraphQLError, Kind, parse, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the gateway's own context bound
type ProcessOptions = GraphQLDataSourceProcessOptions<any>;
type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** Connection failures after which the subgraph has certainly not seen the request. */
const NEVER_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Connection failures after which the subgraph may or may not have run it. */
const LOST_ON_THE_WAY = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Set by our fetcher (http-fetcher.ts) when a subgraph does not answer in time. */
export const SUBGRAPH_TIMEOUT_CODE = 'SUBGRAPH_TIMEOUT';

/**
 * Turns what a subgraph call can fail with into an answer the gateway merges like any subgraph
 * response, so the caller learns what went wrong instead of "Internal server error":
 *
 * - A non-2xx answer that is still GraphQL (a subgraph's 400 for a malformed Decimal variable, say)
 *   is returned as the subgraph's own errors. RemoteGraphQLDataSource would throw
 *   "400: Bad Request" with the real errors nested in `extensions.response.body`, which the
 *   gateway then masks; passed on, they keep their code and field, and `maskInternalError` still
 *   masks every code that is not public.
 * - A subgraph that cannot be reached, resets the connection, answers 502–504, or does not answer
 *   in time becomes SUBGRAPH_UNAVAILABLE / SUBGRAPH_TIMEOUT naming the service, with
 *   `retryable`: true when sending the same request again is safe (a query, or a mutation the
 *   subgraph never saw). The fields it owns are null; the rest of the answer stands.
 *
 * Anything else (a 2xx that is not JSON, a bug) is rethrown and masked as an internal error.
 */
export async function answerSubgraphFailure(service: string, options: ProcessOptions, send: () => Promise<SubgraphResponse>): Promise<SubgraphResponse> {
  try {
    return await send();
  } catch (error) {
    if ((options.kind as string) !== 'incoming operation') throw error;
    const response = responseOf(error);
    // A proxy's 503 means the subgraph was not asked; after a 502 or 504 it may have been.
    if (response && response.status >= 502 && response.status <= 504) {
      return unavailable(ErrorCode.SUBGRAPH_UNAVAILABLE, service, options, response.status === 503 || !isMutation(options));
    }
    // 401/403 from a subgraph mean the gateway's own token was refused: our fault, not the caller's.
    if (response && response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 403 && isGraphQLErrorList(response.body)) {
      return { errors: response.body.errors };
    }
    const code = errorCode(error);
    if (code && NEVER_REACHED.has(code)) return unavailable(ErrorCode.SUBGRAPH_UNAVAILABLE, service, options, true);
    if (code && LOST_ON_THE_WAY.has(code)) return unavailable(ErrorCode.SUBGRAPH_UNAVAILABLE, service, options, !isMutation(options));
    if (code === SUBGRAPH_TIMEOUT_CODE) return unavailable(ErrorCode.SUBGRAPH_TIMEOUT, service, options, !isMutation(options));
    throw error;
  }
}

function unavailable(code: string, service: string, options: ProcessOptions, retryable: boolean): SubgraphResponse {
  const message =
    code === ErrorCode.SUBGRAPH_TIMEOUT
      ? `The ${service} service did not answer in time; the fields it provides are null.`
      : `The ${service} service is unavailable; the fields it provides are null.`;
  const hint = retryable ? ' Retry later.' : ' The change may or may not have been made: retry with the same idempotency key, or check before retrying.';
  const extensions = { code, service, retryable };
  const paths = failedPaths(options);
  if (paths.length === 0) return { errors: [{ message: message + hint, extensions }] };
  return { errors: paths.map((path) => ({ message: message + hint, path, extensions })) };
}

/**
 * Where the missing part is, in the subgraph's own response shape (the gateway maps it onto the
 * caller's): each root field of a root fetch; for an entity fetch each field asked of the entity,
 * when there is one entity (with many, one error without a path says it for all of them rather
 * than one per entity and field).
 */
function failedPaths(options: ProcessOptions): (string | number)[][] {
  const operation = operationOf(options);
  if (!operation) return [];
  const fields = operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD);
  if (fields.length === 1 && fields[0]!.name.value === '_entities') {
    const representations = options.request.variables?.['representations'];
    if (!Array.isArray(representations) || representations.length !== 1) return [];
    // The entity's fields this subgraph was asked for (inside `... on Member { points }`).
    const names = new Set<string>();
    for (const fragment of fields[0]!.selectionSet?.selections ?? []) {
      if (fragment.kind !== Kind.INLINE_FRAGMENT) continue;
      for (const field of fragment.selectionSet.selections) {
        if (field.kind === Kind.FIELD && field.name.value !== '__typename') names.add(field.alias?.value ?? field.name.value);
      }
    }
    return names.size ? [...names].map((name) => ['_entities', 0, name]) : [['_entities', 0]];
  }
  return fields.map((field) => [field.alias?.value ?? field.name.value]);
}

function isMutation(options: ProcessOptions): boolean {
  // Without the operation, assume the worst: a retry could apply a change twice.
  return operationOf(options)?.operation !== 'query';
}

/** The operation sent to the subgraph (the gateway does not always pass its document: parsed then, on this failure path only). */
function operationOf(options: ProcessOptions): OperationDefinitionNode | undefined {
  let document = 'document' in options ? options.document : undefined;
  if (!document && options.request.query) {
    try {
      document = parse(options.request.query);
    } catch {
      return undefined;
    }
  }
  return document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

function responseOf(error: unknown): { status: number; body: unknown } | null {
  if (!(error instanceof GraphQLError)) return null;
  const response = error.extensions['response'] as { status?: unknown; body?: unknown } | undefined;
  return typeof response?.status === 'number' ? { status: response.status, body: response.body } : null;
}

function isGraphQLErrorList(body: unknown): body is { errors: GraphQLFormattedError[] } {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof (e as { message?: unknown })?.message === 'string');
}

function errorCode(error: unknown): string | undefined {
  // node:http puts the code on the error; undici-style fetchers nest it in `cause`.
  for (let current: unknown = error, depth = 0; current && depth < 3; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
