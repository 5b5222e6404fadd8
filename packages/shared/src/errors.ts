import { GraphQLError } from 'graphql';

/**
 * Error codes a client can rely on. Anything else that escapes a resolver is an internal
 * error and is masked before it leaves the service.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  /** A request-level failure (bad JSON, wrong method, batching): HTTP 400/405, nothing ran. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** Several operations and no `operationName`, or an `operationName` the document does not hold: HTTP 400. */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** The request body is over the size limit: HTTP 413, nothing ran. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /**
   * A subgraph could not be reached (refused, reset, 502–504): the part of the answer it owns is
   * null, the rest is answered. Carries `service` and `retryable`.
   */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** A subgraph did not answer in time; like SUBGRAPH_UNAVAILABLE, with `service` and `retryable`. */
  SUBGRAPH_TIMEOUT: 'SUBGRAPH_TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes produced by GraphQL itself (parse/validation) or by us on purpose: shown as they are. */
export const PUBLIC_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.BAD_REQUEST,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.SUBGRAPH_UNAVAILABLE,
  ErrorCode.SUBGRAPH_TIMEOUT,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  // The gateway's limits (docs/limits.md).
  'COST_LIMIT_EXCEEDED',
  'ALIAS_LIMIT_EXCEEDED',
  'DIRECTIVE_LIMIT_EXCEEDED',
  'TOKEN_LIMIT_EXCEEDED',
  'RATE_LIMITED',
  'OPERATION_NOT_TRUSTED',
]);

/**
 * The extensions a public error keeps when it leaves a service (everything else, stack traces
 * included, is dropped): the field a form can point at, and for a failed subgraph which one it
 * was and whether sending the same request again is safe.
 */
export const PUBLIC_ERROR_EXTENSIONS: readonly string[] = ['field', 'service', 'retryable'];

/**
 * Field-level errors carry no HTTP status: one forbidden field must not turn a partly successful
 * response into a 401/403 (the gateway would then discard the subgraph's whole answer). Request-
 * level failures (no or bad credentials, thrown while building the context) pass `httpStatus`.
 */
export function unauthenticated(message = 'Authentication required', httpStatus?: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, ...(httpStatus ? { http: { status: httpStatus } } : {}) } });
}

export function forbidden(message = 'You are not allowed to do this'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN } });
}

/** Malformed input: names the offending field so a form can point at it. */
export function badUserInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...(field ? { field } : {}) } });
}

export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} not found`, { extensions: { code: ErrorCode.NOT_FOUND } });
}

/**
 * Another subgraph this one needs for the request did not answer (members, asked who a member is).
 * Nothing has been written: the caller may send the same request again. `httpStatus` 503 when it
 * happens before execution (building the context), so the gateway reports the part as unavailable.
 */
export function peerUnavailable(service: string, httpStatus?: number): GraphQLError {
  return new GraphQLError(`The ${service} service is unavailable; nothing was changed. Retry later.`, {
    extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, service, retryable: true, ...(httpStatus ? { http: { status: httpStatus } } : {}) },
  });
}

export function conflict(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.CONFLICT } });
}

/**
 * An expected business failure, returned in a mutation payload's `userErrors` rather than thrown:
 * the request was well formed, the world just said no (identifier taken, transition not allowed).
 */
export interface UserError {
  code: string;
  field: string | null;
  message: string;
}

export function userError(code: string, message: string, field: string | null = null): UserError {
  return { code, field, message };
}

/** Thrown by domain code for an expected failure; resolvers turn it into a `UserError`. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toUserError(): UserError {
    return userError(this.code, this.message, this.field);
  }
}

/**
 * Malformed input found by domain validation (bad email, oversized name). Resolvers turn it into
 * a BAD_USER_INPUT GraphQL error that names the field; nothing has been written when it is thrown.
 */
export class InputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}
